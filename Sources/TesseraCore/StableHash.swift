/// FNV-1a, 64 bit: a hash that is the same in every process and on every machine (Swift's
/// `hashValue` is randomised per process, so array tasks would disagree). For split streams,
/// digests and file checksums; not for security.
public func stableHash(bytes: some Sequence<UInt8>) -> UInt64 {
    // Contiguous storage (arrays, Data) takes the raw-buffer loop: the generic walk is slower.
    if let hash = bytes.withContiguousStorageIfAvailable({ stableHash(buffer: UnsafeRawBufferPointer($0)) }) { return hash }
    var h = fnvOffsetBasis
    for b in bytes {
        h ^= UInt64(b)
        h = h &* fnvPrime
    }
    return h
}

/// FNV-1a 64 over a raw buffer.
public func stableHash(buffer: UnsafeRawBufferPointer) -> UInt64 {
    var h = fnvOffsetBasis
    for b in buffer {
        h ^= UInt64(b)
        h = h &* fnvPrime
    }
    return h
}

public func stableHash(_ text: String) -> UInt64 { stableHash(bytes: text.utf8) }

private let fnvOffsetBasis: UInt64 = 0xCBF2_9CE4_8422_2325
private let fnvPrime: UInt64 = 0x0000_0100_0000_01B3
