/// RFC 3986 percent-encoding, the one implementation for URLs, form bodies and SigV4.
public enum PercentEncoding {
    /// Only the unreserved characters `A-Z a-z 0-9 - . _ ~` stay as they are; every other
    /// UTF-8 byte becomes `%XX` with uppercase hex (so space is `%20`, never `+`).
    /// `keepSlash` leaves `/` alone, for paths.
    public static func rfc3986(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out.append("%")
                out.unicodeScalars.append(hexDigits[Int(byte >> 4)])
                out.unicodeScalars.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return out
    }

    private static let hexDigits = Array("0123456789ABCDEF".unicodeScalars)

    /// `application/x-www-form-urlencoded` body from ordered pairs.
    public static func form(_ pairs: [(String, String)]) -> [UInt8] {
        Array(pairs.map { "\(rfc3986($0.0))=\(rfc3986($0.1))" }.joined(separator: "&").utf8)
    }
}
