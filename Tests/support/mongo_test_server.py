#!/usr/bin/python3
"""A MongoDB wire-protocol *test* server for stacksim: Debian's python3-mockupdb speaks the
protocol, python3-mongomock keeps the data and evaluates queries. It answers every command
libmongoc sends for the stack's operations, so the libmongoc path is exercised end to end
without a MongoDB server (Debian ships none). Its speed says nothing about MongoDB's.

Usage: mongo_test_server.py PORT
"""
import datetime
import re
import sys

import mockupdb
import mongomock
from pymongo import ReturnDocument

VERSION = "5.0.0-stacksim-test-server"
client = mongomock.MongoClient()
# Index specs by (database, collection), as createIndexes sent them: listIndexes returns them.
indexes = {}


def hello(_request, _db):
    return {"ismaster": True, "isWritablePrimary": True, "helloOk": True, "minWireVersion": 0, "maxWireVersion": 13,
            "maxBsonObjectSize": 16 * 1024 * 1024, "maxMessageSizeBytes": 48_000_000, "maxWriteBatchSize": 100_000,
            "localTime": datetime.datetime.now(datetime.timezone.utc), "ok": 1}


def build_info(_request, _db):
    return {"version": VERSION, "versionArray": [5, 0, 0, 0], "stacksimTestServer": True, "ok": 1}


def words(text):
    return set(re.findall(r"\w+", str(text).lower()))


def text_filter(query):
    """Splits a `$text` clause off a filter: (rest of the filter, predicate on a document)."""
    if "$text" not in query:
        return query, lambda _doc: True
    query = dict(query)
    wanted = words(query.pop("$text")["$search"])

    def matches(doc):
        have = words(doc.get("title", "")) | words(doc.get("description", ""))
        for tag in doc.get("tags", []) or []:
            have |= words(tag)
        return bool(wanted & have)
    return query, matches


def cursor_reply(db, collection, docs):
    return {"cursor": {"id": 0, "ns": f"{db.name}.{collection}", "firstBatch": docs}, "ok": 1}


def find(request, db):
    doc = request.doc
    name = doc["find"]
    query, matches = text_filter(doc.get("filter", {}))
    cursor = db[name].find(query, doc.get("projection"))
    if doc.get("sort"):
        cursor = cursor.sort(list(doc["sort"].items()))
    docs = [d for d in cursor if matches(d)]
    skip, limit = doc.get("skip", 0), abs(doc.get("limit", 0))
    docs = docs[skip:skip + limit] if limit else docs[skip:]
    return cursor_reply(db, name, docs)


def aggregate(request, db):
    name = request.doc["aggregate"]
    return cursor_reply(db, name, list(db[name].aggregate(request.doc["pipeline"])))


def count(request, db):
    return {"n": db[request.doc["count"]].count_documents(request.doc.get("query", {})), "ok": 1}


def write_error(index, error):
    code = 11000 if isinstance(error, mongomock.DuplicateKeyError) else 2
    return {"index": index, "code": code, "errmsg": str(error)}


def insert(request, db):
    collection = db[request.doc["insert"]]
    ordered = request.doc.get("ordered", True)
    n, errors = 0, []
    for index, document in enumerate(request.doc.get("documents", [])):
        try:
            collection.insert_one(document)
            n += 1
        except mongomock.WriteError as error:
            errors.append(write_error(index, error))
            if ordered:
                break
    reply = {"n": n, "ok": 1}
    if errors:
        reply["writeErrors"] = errors
    return reply


def update(request, db):
    collection = db[request.doc["update"]]
    n = modified = 0
    upserted, errors = [], []
    for index, spec in enumerate(request.doc.get("updates", [])):
        replacement = not any(key.startswith("$") for key in spec["u"])
        method = (collection.replace_one if replacement else
                  collection.update_many if spec.get("multi") else collection.update_one)
        try:
            result = method(spec["q"], spec["u"], upsert=spec.get("upsert", False))
        except mongomock.WriteError as error:
            errors.append(write_error(index, error))
            continue
        n += result.matched_count
        modified += result.modified_count
        if result.upserted_id is not None:
            n += 1
            upserted.append({"index": index, "_id": result.upserted_id})
    reply = {"n": n, "nModified": modified, "ok": 1}
    if upserted:
        reply["upserted"] = upserted
    if errors:
        reply["writeErrors"] = errors
    return reply


def delete(request, db):
    collection = db[request.doc["delete"]]
    n = 0
    for spec in request.doc.get("deletes", []):
        method = collection.delete_one if spec.get("limit") == 1 else collection.delete_many
        n += method(spec["q"]).deleted_count
    return {"n": n, "ok": 1}


def find_and_modify(request, db):
    doc = request.doc
    collection = db[doc["findAndModify"]]
    query, sort = doc.get("query", {}), list(doc["sort"].items()) if doc.get("sort") else None
    after = ReturnDocument.AFTER if doc.get("new") else ReturnDocument.BEFORE
    if doc.get("remove"):
        value = collection.find_one_and_delete(query, sort=sort)
    else:
        value = collection.find_one_and_update(query, doc["update"], sort=sort, upsert=doc.get("upsert", False),
                                               return_document=after)
    return {"value": value, "lastErrorObject": {"n": 0 if value is None else 1, "updatedExisting": value is not None},
            "ok": 1}


def create_indexes(request, db):
    name = request.doc["createIndexes"]
    known = indexes.setdefault((db.name, name), [{"key": {"_id": 1}, "name": "_id_", "v": 2}])
    before = len(known)
    for spec in request.doc["indexes"]:
        if any(existing["name"] == spec["name"] for existing in known):
            continue
        known.append(dict(spec, v=2))
        # Uniqueness is a semantic the stack relies on: let mongomock enforce it.
        if spec.get("unique") and all(v in (1, -1) for v in spec["key"].values()):
            db[name].create_index(list(spec["key"].items()), unique=True, name=spec["name"])
    return {"numIndexesBefore": before, "numIndexesAfter": len(known), "ok": 1}


def list_indexes(request, db):
    name = request.doc["listIndexes"]
    return cursor_reply(db, name, indexes.get((db.name, name), []))


def drop(request, db):
    db.drop_collection(request.doc["drop"])
    indexes.pop((db.name, request.doc["drop"]), None)
    return {"ok": 1}


def drop_database(_request, db):
    client.drop_database(db.name)
    for key in [k for k in indexes if k[0] == db.name]:
        del indexes[key]
    return {"ok": 1}


def ok(_request, _db):
    return {"ok": 1}


COMMANDS = {
    "hello": hello, "ismaster": hello, "isMaster": hello, "buildInfo": build_info, "buildinfo": build_info,
    "ping": ok, "endSessions": ok, "killCursors": ok, "find": find, "aggregate": aggregate, "count": count,
    "insert": insert, "update": update, "delete": delete, "findAndModify": find_and_modify, "findandmodify": find_and_modify,
    "createIndexes": create_indexes, "listIndexes": list_indexes, "drop": drop, "dropDatabase": drop_database,
}


def main():
    port = int(sys.argv[1])
    server = mockupdb.MockupDB(port=port, request_timeout=3600)
    server.run()
    print(f"mongo test server on 127.0.0.1:{port}", flush=True)
    for request in server:
        name = next(iter(request.doc), "") if request.doc else ""
        handler = COMMANDS.get(name)
        db = client[request.namespace.split(".")[0] or "admin"]
        if handler is None:
            request.reply({"ok": 0, "errmsg": f"no such command: '{name}' (stacksim test server)", "code": 59})
            continue
        try:
            request.reply(handler(request, db))
        except Exception as error:  # a bug here must reach the client as an error, not a hang
            request.reply({"ok": 0, "errmsg": f"{type(error).__name__}: {error}", "code": 1})


if __name__ == "__main__":
    main()
