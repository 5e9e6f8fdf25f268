import BucketwatchCore
import Foundation

/// The last known state of every check, kept in the state directory so that a restart
/// does not re-announce drift the journal already has.
///
/// Written atomically (temporary file, fsync, rename). A missing or corrupt file is not
/// an error: it costs one round of announcements, and the reason is logged.
public struct StateFile: Sendable {
    public var path: String

    public init(directory: String) {
        path = (directory as NSString).appendingPathComponent("state.json")
    }

    struct Document: Codable {
        var version: Int
        var stores: KnownStates
    }

    public enum LoadResult: Sendable, Equatable {
        case loaded(KnownStates)
        case missing
        case corrupt(String)
    }

    public func load() -> LoadResult {
        guard let data = FileManager.default.contents(atPath: path) else { return .missing }
        do {
            let document = try JSONDecoder().decode(Document.self, from: data)
            guard document.version == 1 else { return .corrupt("unsupported state file version \(document.version)") }
            return .loaded(document.stores)
        } catch {
            return .corrupt("unreadable state file: \(error.localizedDescription)")
        }
    }

    public func save(_ states: KnownStates) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(Document(version: 1, stores: states))
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary])
        }
        let fd = open(temporary, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path, NSUnderlyingErrorKey: POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)])
        }
        // The rename itself is durable only once the directory entry is on disk.
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }
}
