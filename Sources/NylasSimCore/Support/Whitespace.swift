import Foundation

extension StringProtocol where UTF8View: BidirectionalCollection {
    /// `trimmingCharacters(in: .whitespaces)`; without the trip through Foundation when there is
    /// nothing to trim (an ASCII first and last character that is neither a space nor a tab, the
    /// only ASCII members of `.whitespaces`).
    package func trimmingWhitespaces() -> String {
        let bytes = utf8
        if let first = bytes.first, let last = bytes.last, first < 0x80, last < 0x80,
           first != 0x20, first != 0x09, last != 0x20, last != 0x09 {
            return String(self)
        }
        return trimmingCharacters(in: .whitespaces)
    }
}
