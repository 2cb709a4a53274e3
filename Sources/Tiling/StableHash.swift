/// FNV-1a over UTF-8: a hash that is the same in every process and on every machine (Swift's
/// `hashValue` is randomised per process, so array tasks would disagree).
public func stableHash(_ text: String) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in text.utf8 {
        h ^= UInt64(b)
        h = h &* 0x0000_0100_0000_01B3
    }
    return h
}
