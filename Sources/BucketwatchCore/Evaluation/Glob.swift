/// IAM-style wildcard matching: `*` matches any run of characters, `?` exactly one.
///
/// Used for actions (case-insensitive, `s3:GetObject*`) and resources (case-sensitive ARNs).
/// Iterative with backtracking on the last `*`: linear-ish, no recursion depth to exhaust
/// on hostile patterns. A `?` never matches a literal `*` in the text: when the text is itself
/// a wildcard (a required `s3:GetObject*`), one character cannot stand for all of it.
public func iamGlobMatch(_ pattern: String, _ text: String, caseInsensitive: Bool) -> Bool {
    let p = Array((caseInsensitive ? pattern.lowercased() : pattern).unicodeScalars)
    let t = Array((caseInsensitive ? text.lowercased() : text).unicodeScalars)
    var pi = 0, ti = 0
    var starP = -1, starT = 0
    while ti < t.count {
        if pi < p.count, (p[pi] == "?" && t[ti] != "*") || p[pi] == t[ti] {
            pi += 1
            ti += 1
        } else if pi < p.count, p[pi] == "*" {
            starP = pi
            starT = ti
            pi += 1
        } else if starP >= 0 {
            pi = starP + 1
            starT += 1
            ti = starT
        } else {
            return false
        }
    }
    while pi < p.count, p[pi] == "*" { pi += 1 }
    return pi == p.count
}
