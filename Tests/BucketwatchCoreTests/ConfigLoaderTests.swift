import Foundation
import Testing
@testable import BucketwatchCore

@Test func configProbe() throws {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/config")
    for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() {
        let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
        do { let c = try ConfigLoader.parse(text, file: name); print("PROBE OK", name, c) }
        catch { print("PROBE", error.description) }
    }
}
