/// FNV-1a, 64 bit: a hash that is the same in every process and on every machine (Swift's
/// `hashValue` is randomised per process, so array tasks would disagree). For split streams,
/// digests and file checksums; not for security.
public func stableHash(bytes: some Sequence<UInt8>) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in bytes {
        h ^= UInt64(b)
        h = h &* 0x0000_0100_0000_01B3
    }
    return h
}

public func stableHash(_ text: String) -> UInt64 { stableHash(bytes: text.utf8) }
