import Foundation
import StackCore

/// What each store's marker says: that stacksim made what is there, and which dataset it holds.
/// Stored as JSON text in PostgreSQL (`<schema>.stacksim_marker`), MongoDB (`stacksim_marker`
/// in stacksim's database) and Redis (`<prefix>marker`).
public struct DatasetMarker: Codable, Equatable, Sendable {
    /// Bumped when the stores' layout changes: a marker of another version is another dataset.
    public static let currentLayout = 2

    public var createdBy = "stacksim"
    public var layout = DatasetMarker.currentLayout
    /// The dataset's identity (scenario seed, sizes, dataset steps); nil: created but not loaded.
    public var dataset: String?
    /// The same in words, for messages.
    public var datasetDescription: String?
    /// The time the dataset's dates were generated around; reused runs regenerate it as of then.
    public var anchor: Date?
    /// Runs made on this dataset since it was loaded, and the writes they had acknowledged: the
    /// dataset drifts by what runs write (tasks created, statuses moved), and the marker says so.
    public var runs = 0
    public var writes = 0

    public init(dataset: String?, description: String?, anchor: Date?) {
        self.dataset = dataset
        datasetDescription = description
        self.anchor = anchor
    }

    enum CodingKeys: String, CodingKey {
        case createdBy = "created_by", layout, dataset, datasetDescription = "dataset_description", anchor, runs, writes
    }

    /// The marker of places made for this dataset before it is loaded: a load cut short (a
    /// killed process, a lost server) leaves places that the next run loads again, never a
    /// half-loaded dataset it would take as whole.
    public var unloaded: DatasetMarker {
        var marker = self
        marker.dataset = nil
        marker.datasetDescription = nil
        return marker
    }

    public var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .secondsSince1970
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    public static func parse(_ text: String) -> DatasetMarker? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        guard let marker = try? decoder.decode(DatasetMarker.self, from: Data(text.utf8)), marker.createdBy == "stacksim" else { return nil }
        return marker
    }
}

/// What one store holds where stacksim would work.
public enum StoreHolding: Equatable, Sendable {
    /// Nothing: stacksim may create its objects there.
    case empty
    /// stacksim's objects, with their marker.
    case stacksim(DatasetMarker)
    /// Something stacksim did not make (no marker, or one it cannot read): never touched.
    case foreign(String)
}

/// The dataset a run wants, identified the same way every time.
public struct DatasetIdentity: Sendable, Equatable {
    public var fingerprint: String
    public var description: String

    public init(fingerprint: String, description: String) {
        self.fingerprint = fingerprint
        self.description = description
    }
}

/// What `run --target live` does with the stores as it found them.
public struct DatasetPlan: Sendable {
    /// Stores to create and load (empty ones, or stacksim's own that hold no dataset yet).
    public var load: Set<StoreKind>
    /// The marker the stores hold (or will hold) for this dataset.
    public var marker: DatasetMarker
    /// Why the run cannot go on, per store, with what to do: nothing is touched then.
    public var refusals: [String]

    public var reuses: Bool { load.isEmpty }

    /// Decides from what each store holds: matching markers are reused, empty stores loaded,
    /// anything else refused.
    public static func decide(_ holdings: [StoreKind: StoreHolding], want: DatasetIdentity, places: [StoreKind: String],
                              anchor: Date) -> DatasetPlan {
        var plan = DatasetPlan(load: [], marker: DatasetMarker(dataset: want.fingerprint, description: want.description, anchor: anchor),
                               refusals: [])
        var matching: [DatasetMarker] = []
        for store in StoreKind.allCases {
            let place = places[store] ?? store.rawValue
            switch holdings[store] ?? .empty {
            case .empty:
                plan.load.insert(store)
            case .foreign(let what):
                plan.refusals.append(foreignRefusal(store, place: place, what: what))
            case .stacksim(let marker) where marker.layout != DatasetMarker.currentLayout:
                plan.refusals.append("\(store.rawValue): \(place) holds stacksim objects of an older layout (\(marker.layout)); "
                                     + "run `stacksim db reset --yes --target live` to delete them")
            case .stacksim(let marker) where marker.dataset == nil:
                plan.load.insert(store)
            case .stacksim(let marker) where marker.dataset == want.fingerprint:
                matching.append(marker)
            case .stacksim(let marker):
                plan.refusals.append("\(store.rawValue): \(place) holds stacksim's dataset '\(marker.datasetDescription ?? "?")', "
                                     + "not this scenario's '\(want.description)'. Load this one with `stacksim db seed SCENARIO "
                                     + "--target live` (it replaces stacksim's own data only), or delete it with "
                                     + "`stacksim db reset --yes --target live`")
            }
        }
        if let found = matching.max(by: { $0.runs < $1.runs }) {
            plan.marker = found
            if !plan.load.isEmpty, found.anchor == nil { plan.marker.anchor = anchor }
        }
        return plan
    }

    /// Why a place holding something stacksim did not make is left alone, and what to do.
    public static func foreignRefusal(_ store: StoreKind, place: String, what: String) -> String {
        "\(store.rawValue): \(place) holds \(what) that stacksim did not create; it is left alone. "
            + "Point stacksim at an empty place (\(option(store))) or clear it yourself."
    }

    static func option(_ store: StoreKind) -> String {
        switch store {
        case .relational: return "--postgres-schema"
        case .document: return "the database in --mongo-url"
        case .cache: return "--redis-prefix"
        }
    }
}
