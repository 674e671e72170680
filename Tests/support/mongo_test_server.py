#!/usr/bin/python3
"""A MongoDB wire-protocol *test* server for stacksim: Debian's python3-mockupdb speaks the
protocol, python3-mongomock keeps the data and evaluates queries. It answers every command
libmongoc sends for the stack's operations, so the libmongoc path is exercised end to end
without a MongoDB server (Debian ships none). Its speed says nothing about MongoDB's. It serves
one request at a time, first come first served, on one thread (`Connections`).

Like a MongoDB with a journal, it keeps what it acknowledged across a restart: on SIGTERM it
saves every collection and index spec to DATA_FILE and loads them when it starts again.

Usage: mongo_test_server.py PORT [DATA_FILE]
"""
import collections
import copy
import datetime
import os
import pickle
import re
import selectors
import signal
import socket
import struct
import sys

import mockupdb
import mongomock
from mongomock import aggregate as mongomock_aggregate
from mongomock.filtering import filter_applies, resolve_sort_key
from pymongo import ReturnDocument

VERSION = "5.0.0-stacksim-test-server"
client = mongomock.MongoClient()
# Index specs by (database, collection), as createIndexes sent them: listIndexes returns them.
indexes = {}


class EqualityIndexes:
    """Hash indexes on the fields a filter compares for equality, built on first use and dropped
    on every write to their collection. mongomock evaluates a filter against every document of
    the collection; with these a query looks only at the documents it can match, and a lookup by
    `_id` at one. Filters are still evaluated in full on those candidates, so an index may only
    ever give a superset: scalar equality (and `$in` of scalars) only, never `null`."""
    SCALARS = (str, int, float)

    def __init__(self):
        self.by_collection = {}

    def changed(self, collection):
        self.forget(collection.database.name, collection.name)

    def forget(self, database, collection=None):
        for key in [k for k in self.by_collection if k[0] == database and collection in (None, k[1])]:
            del self.by_collection[key]

    def candidates(self, collection, query):
        """The documents `query` can match, or None when no field of it can use an index."""
        documents = collection._store._documents
        best = None
        for field, condition in query.items():
            values = self.equality_values(condition)
            if values is None or field.startswith("$") or "." in field:
                continue
            if field == "_id":
                return [documents[v] for v in values if v in documents]
            index = self.index(collection, field, documents)
            found = list({id(d): d for v in values for d in index.get(v, ())}.values())
            if best is None or len(found) < len(best):
                best = found
        return best

    def equality_values(self, condition):
        if isinstance(condition, dict):
            values = condition.get("$in") if list(condition) == ["$in"] else None
            return values if isinstance(values, list) and all(isinstance(v, self.SCALARS) for v in values) else None
        return [condition] if isinstance(condition, self.SCALARS) else None

    def index(self, collection, field, documents):
        fields = self.by_collection.setdefault((collection.database.name, collection.name), {})
        if field not in fields:
            index = {}
            for document in documents.values():
                value = document.get(field)
                for v in value if isinstance(value, list) else [value]:
                    if isinstance(v, self.SCALARS):
                        index.setdefault(v, []).append(document)
            fields[field] = index
        return fields[field]


equality_indexes = EqualityIndexes()


def iter_documents(collection, query):
    """mongomock's document scan, narrowed by the equality indexes."""
    candidates = equality_indexes.candidates(collection, query or {})
    documents = list(collection._store.documents) if candidates is None else candidates
    return (document for document in documents if filter_applies(query, document))


mongomock.collection.Collection._iter_documents = iter_documents
# mockupdb formats every reply as JSON for a log line it prints only when verbose: skip that.
mockupdb.OpMsgReply.__repr__ = lambda self: "OpMsgReply(…)"


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


SIMPLE_SORT_TYPES = (type(None), bool, int, float, str, datetime.datetime)


def sort_key(field, documents):
    """The BSON order of one field's values: cheaply when every value is null/missing, a number, a
    string, a boolean or a date (ranked as BSON ranks them), else mongomock's general comparison."""
    if "." in field or not all(isinstance(d.get(field), SIMPLE_SORT_TYPES) for d in documents):
        return lambda document: resolve_sort_key(field, document)

    def key(document):
        value = document.get(field)
        if value is None:
            return (1, 0)
        if isinstance(value, bool):
            return (8, value)
        return (2, value) if isinstance(value, (int, float)) else (3, value) if isinstance(value, str) else (9, value)
    return key


def find(request, db):
    """Filters, sorts and limits the stored documents, and copies only those it returns (mongomock's
    own find copies every match before limiting)."""
    doc = request.doc
    collection = db[doc["find"]]
    query, matches = text_filter(doc.get("filter", {}))
    docs = [d for d in collection._iter_documents(query) if matches(d)]
    for field, direction in reversed(list((doc.get("sort") or {}).items())):
        docs.sort(key=sort_key(field, docs), reverse=direction < 0)
    skip, limit = doc.get("skip", 0), abs(doc.get("limit", 0))
    docs = docs[skip:skip + limit] if limit else docs[skip:]
    projection = doc.get("projection")
    # Replies are encoded before the next request runs, so unprojected documents need no copy.
    return cursor_reply(db, collection.name, [collection._copy_only_fields(d, projection, dict) for d in docs] if projection else docs)


# Stages that read their input documents without changing them.
READ_ONLY_STAGES = {"$group", "$sort", "$limit", "$skip", "$count"}


def aggregate(request, db):
    """A leading `$match` runs as an indexed scan; the documents are copied only when a later stage
    could change them."""
    name, pipeline = request.doc["aggregate"], request.doc["pipeline"]
    if pipeline and "$match" in pipeline[0]:
        collection = db[name]
        matched = list(collection._iter_documents(pipeline[0]["$match"]))
        if any(next(iter(stage)) not in READ_ONLY_STAGES for stage in pipeline[1:]):
            matched = [copy.deepcopy(d) for d in matched]
        return cursor_reply(db, name, list(mongomock_aggregate.process_pipeline(matched, db, pipeline[1:], None)))
    return cursor_reply(db, name, list(db[name].aggregate(pipeline)))


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
        finally:
            equality_indexes.changed(collection)
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
        finally:
            equality_indexes.changed(collection)
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
        equality_indexes.changed(collection)
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
    equality_indexes.changed(collection)
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
    equality_indexes.forget(db.name, request.doc["drop"])
    indexes.pop((db.name, request.doc["drop"]), None)
    return {"ok": 1}


def drop_database(_request, db):
    client.drop_database(db.name)
    equality_indexes.forget(db.name)
    for key in [k for k in indexes if k[0] == db.name]:
        del indexes[key]
    return {"ok": 1}


def list_collections(_request, db):
    return cursor_reply(db, "$cmd.listCollections",
                        [{"name": name, "type": "collection"} for name in sorted(db.list_collection_names())])


# serverStatus opcounters, counted here as mongod counts them: a find is a query, inserted
# documents and update and delete statements count one each, every other command is a command.
OPCOUNTERS = {"insert": 0, "query": 0, "update": 0, "delete": 0, "getmore": 0, "command": 0}


def count_operation(name, doc):
    if name == "find":
        OPCOUNTERS["query"] += 1
    elif name == "insert":
        OPCOUNTERS["insert"] += len(doc.get("documents", []))
    elif name == "update":
        OPCOUNTERS["update"] += len(doc.get("updates", []))
    elif name == "delete":
        OPCOUNTERS["delete"] += len(doc.get("deletes", []))
    elif name == "getMore":
        OPCOUNTERS["getmore"] += 1
    else:
        OPCOUNTERS["command"] += 1


def server_status(_request, _db):
    # Only what this server counts itself; it has no storage engine, locks or profiler to report.
    return {"ok": 1, "opcounters": dict(OPCOUNTERS), "host": "stacksim-test-server"}


def ok(_request, _db):
    return {"ok": 1}


def save(path):
    """Every database's documents and the index specs, written atomically."""
    state = {"indexes": indexes, "databases": {}}
    for name in client.list_database_names():
        db = client[name]
        state["databases"][name] = {c: list(db[c]._store._documents.values()) for c in db.list_collection_names()}
    with open(path + ".tmp", "wb") as f:
        pickle.dump(state, f)
    os.replace(path + ".tmp", path)


def load(path):
    if not os.path.exists(path):
        return
    with open(path, "rb") as f:
        state = pickle.load(f)
    indexes.update(state["indexes"])
    for name, collections in state["databases"].items():
        for collection, documents in collections.items():
            client[name].create_collection(collection)
            if documents:
                client[name][collection].insert_many(documents)
    for (database, collection), specs in indexes.items():
        for spec in specs:
            if spec.get("unique") and all(v in (1, -1) for v in spec["key"].values()):
                client[database][collection].create_index(list(spec["key"].items()), unique=True, name=spec["name"])


COMMANDS = {
    "hello": hello, "ismaster": hello, "isMaster": hello, "buildInfo": build_info, "buildinfo": build_info,
    "ping": ok, "endSessions": ok, "killCursors": ok, "find": find, "aggregate": aggregate, "count": count,
    "insert": insert, "update": update, "delete": delete, "findAndModify": find_and_modify, "findandmodify": find_and_modify,
    "createIndexes": create_indexes, "listIndexes": list_indexes, "drop": drop, "dropDatabase": drop_database,
    "listCollections": list_collections, "serverStatus": server_status,
}


def serve(request):
    name = next(iter(request.doc), "") if request.doc else ""
    handler = COMMANDS.get(name)
    db = client[request.namespace.split(".")[0] or "admin"]
    count_operation(name, request.doc or {})
    if handler is None:
        request.reply({"ok": 0, "errmsg": f"no such command: '{name}' (stacksim test server)", "code": 59})
        return
    try:
        reply = handler(request, db)
    except Exception as error:  # a bug here must reach the client as an error, not a hang
        reply = {"ok": 0, "errmsg": f"{type(error).__name__}: {error}", "code": 1}
    try:
        request.reply(reply)
    except OSError:  # the client gave up waiting and closed its socket: serve the next one
        pass


class Connections:
    """Every client connection on one thread: a selector says which sockets have bytes, whole
    messages go into one first-come queue, and the server answers them one at a time. mockupdb's
    own loop gives each connection a thread; with one interpreter lock those threads took the
    lock from the serving thread more often the more connections waited, so once a backlog
    formed it served more slowly and never drained — a cliff no server of fixed speed has."""

    HEADER = struct.Struct("<iiii")  # length, request id, response to, opcode
    SEND_TIMEOUT_S = 10  # a client that stops reading its replies cannot stall the server for longer
    MAX_MESSAGE = 48_000_000  # MongoDB's maxMessageSizeBytes

    def __init__(self, port):
        self.listener = socket.create_server(("127.0.0.1", port), backlog=128)
        self.listener.setblocking(False)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ)
        self.received = {}  # socket -> bytes received that do not yet make a whole message
        self.queue = collections.deque()  # requests in the order their last byte arrived

    def next_request(self, timeout):
        """The oldest request not yet answered, after taking in what the sockets hold; None
        when none has arrived within `timeout` seconds."""
        for key, _ in self.selector.select(0 if self.queue else timeout):
            if key.fileobj is self.listener:
                self.accept()
            else:
                self.read(key.fileobj)
        return self.queue.popleft() if self.queue else None

    def accept(self):
        try:
            client, _ = self.listener.accept()
        except BlockingIOError:  # the connection was reset before we took it
            return
        client.settimeout(self.SEND_TIMEOUT_S)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.received[client] = b""
        self.selector.register(client, selectors.EVENT_READ)

    def read(self, client):
        try:
            chunk = client.recv(1 << 20)
        except OSError:
            chunk = b""
        if not chunk:  # the client hung up: what it sent whole is still served, like a server would
            self.hang_up(client)
            return
        data = self.received[client] + chunk
        while len(data) >= self.HEADER.size:
            length, request_id, _, opcode = self.HEADER.unpack_from(data)
            if not self.HEADER.size <= length <= self.MAX_MESSAGE:
                print(f"closing a connection that sent a message length of {length}", flush=True)
                self.hang_up(client)
                return
            if len(data) < length:
                break
            body, data = data[self.HEADER.size:length], data[length:]
            try:
                self.queue.append(mockupdb.OPCODES[opcode].unpack(body, client, None, request_id))
            except Exception as error:  # not a message this server can read: end that connection only
                print(f"closing a connection that sent opcode {opcode}: {type(error).__name__}: {error}", flush=True)
                self.hang_up(client)
                return
        self.received[client] = data

    def hang_up(self, client):
        self.selector.unregister(client)
        del self.received[client]
        client.close()


def main():
    port = int(sys.argv[1])
    data_file = sys.argv[2] if len(sys.argv) > 2 else None
    if data_file:
        load(data_file)
    # Started from a thread that blocks signals (a test's), it would inherit that mask.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    # SIGTERM only sets a flag: saving from inside the handler could wait forever on a lock
    # mongomock holds in the very frame the signal interrupted.
    stopping = []
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stopping.append(True))
    connections = Connections(port)
    print(f"mongo test server on 127.0.0.1:{port}", flush=True)
    while not stopping:
        request = connections.next_request(timeout=0.2)
        if request is not None:
            serve(request)
    if data_file:
        save(data_file)
    os._exit(0)

if __name__ == "__main__":
    main()
