import CTurboJPEG
import TesseraCore

/// JPEG encoder for RGB tiles (libjpeg-turbo's TurboJPEG API). One instance per thread: a TurboJPEG
/// handle is not thread-safe, but is cheap to reuse.
public final class JPEGEncoder {
    private let handle: tjhandle
    public let quality: Int
    private var buffer: UnsafeMutablePointer<UInt8>?
    private var capacity = 0

    /// Chroma subsampling 4:2:0, the default of slide scanners and what keeps a 512² H&E tile at ~40 KB.
    public init(quality: Int = 90) throws {
        precondition((1...100).contains(quality), "JPEG quality must be 1…100, got \(quality)")
        guard let h = tjInitCompress() else {
            throw JPEGError(operation: .initialise, message: TurboJPEGMessage.last(nil))
        }
        handle = h
        self.quality = quality
    }

    deinit {
        if let buffer { tjFree(buffer) }
        tjDestroy(handle)
    }

    public func encode(_ image: RGBImage) throws -> [UInt8] {
        precondition(image.width > 0 && image.height > 0, "cannot encode an empty image")
        // The worst-case output buffer is kept between calls (TJFLAG_NOREALLOC): allocating and
        // freeing ~1 MB per tile cost page faults on every tile.
        let bound = Int(tjBufSize(Int32(image.width), Int32(image.height), Int32(TJSAMP_420.rawValue)))
        if bound > capacity {
            if let buffer { tjFree(buffer) }
            buffer = tjAlloc(Int32(bound))
            capacity = buffer == nil ? 0 : bound
        }
        guard buffer != nil else {
            throw JPEGError(operation: .encode, message: "cannot allocate \(bound) bytes for a \(image.width)×\(image.height) JPEG")
        }
        var out = buffer
        var size = UInt(capacity)
        let rc = image.pixels.withUnsafeBufferPointer { src in
            tjCompress2(handle, src.baseAddress, Int32(image.width), 0, Int32(image.height), Int32(TJPF_RGB.rawValue),
                        &out, &size, Int32(TJSAMP_420.rawValue), Int32(quality), Int32(TJFLAG_NOREALLOC))
        }
        guard rc == 0, let out else {
            throw JPEGError(operation: .encode, message: TurboJPEGMessage.last(handle))
        }
        return Array(UnsafeBufferPointer(start: out, count: Int(size)))
    }
}

/// JPEG decoder to RGB. One instance per thread.
public final class JPEGDecoder {
    fileprivate let handle: tjhandle

    public init() throws {
        guard let h = tjInitDecompress() else {
            throw JPEGError(operation: .initialise, message: TurboJPEGMessage.last(nil))
        }
        handle = h
    }

    deinit { tjDestroy(handle) }

    /// Width and height from the header, without decoding.
    public func dimensions(of data: [UInt8]) throws -> (width: Int, height: Int) {
        var w: Int32 = 0, h: Int32 = 0, sub: Int32 = 0, cs: Int32 = 0
        let rc = data.withUnsafeBufferPointer { src in
            tjDecompressHeader3(handle, src.baseAddress, UInt(src.count), &w, &h, &sub, &cs)
        }
        guard rc == 0, w > 0, h > 0 else {
            throw JPEGError(operation: .header, message: TurboJPEGMessage.last(handle))
        }
        return (Int(w), Int(h))
    }

    /// Decodes to RGB. `scale` is a reduced-size decode (1, 2, 4 or 8: 1/scale of each side, done in
    /// the IDCT and so much cheaper than decoding fully and then shrinking).
    ///
    /// Corrupt data throws; TurboJPEG sometimes flags damage only as a warning with a successful return
    /// code, so the return code decides (a truncated tile still decodes, grey-filled, with a warning):
    /// `strict` turns such warnings into errors too.
    public func decode(_ data: [UInt8], scale: Int = 1, strict: Bool = true) throws -> RGBImage {
        precondition([1, 2, 4, 8].contains(scale), "JPEG decode scale must be 1, 2, 4 or 8, got \(scale)")
        let (w, h) = try dimensions(of: data)
        let ow = (w + scale - 1) / scale, oh = (h + scale - 1) / scale
        var pixels = [UInt8](repeating: 0, count: ow * oh * 3)
        let flags: Int32 = strict ? Int32(TJFLAG_STOPONWARNING) : 0
        let rc = data.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                tjDecompress2(handle, src.baseAddress, UInt(src.count), dst.baseAddress,
                              Int32(ow), 0, Int32(oh), Int32(TJPF_RGB.rawValue), flags)
            }
        }
        guard rc == 0 else {
            throw JPEGError(operation: .decode, message: TurboJPEGMessage.last(handle))
        }
        return RGBImage(width: ow, height: oh, pixels: pixels)
    }
}

extension JPEGDecoder {
    /// Decodes `data` at 1/`scale` of each side (1, 2, 4 or 8, done in the IDCT) straight into
    /// `destination` as RGB rows `pitch` bytes apart, which must hold the scaled image; returns its
    /// size. Any warning (damaged data that libjpeg would paper over with grey) is an error, and so
    /// is a scaled image larger than `limit` (the place in `destination` meant for it).
    public func decode(_ data: UnsafeRawBufferPointer, scale: Int, into destination: UnsafeMutableRawBufferPointer,
                       pitch: Int, limit: (width: Int, height: Int)? = nil) throws -> (width: Int, height: Int) {
        precondition([1, 2, 4, 8].contains(scale), "JPEG decode scale must be 1, 2, 4 or 8, got \(scale)")
        let source = data.bindMemory(to: UInt8.self)
        var w: Int32 = 0, h: Int32 = 0, sub: Int32 = 0, cs: Int32 = 0
        guard tjDecompressHeader3(handle, source.baseAddress, UInt(source.count), &w, &h, &sub, &cs) == 0, w > 0, h > 0 else {
            throw JPEGError(operation: .header, message: TurboJPEGMessage.last(handle))
        }
        let ow = (Int(w) + scale - 1) / scale, oh = (Int(h) + scale - 1) / scale
        guard pitch >= ow * 3 && destination.count >= (oh - 1) * pitch + ow * 3 else {
            throw JPEGError(operation: .header, message: "the image is \(w)×\(h), larger than the \(destination.count)-byte buffer for it")
        }
        if let limit, ow > limit.width || oh > limit.height {
            throw JPEGError(operation: .header, message: "the image is \(w)×\(h), larger than the \(limit.width * scale)×\(limit.height * scale) expected")
        }
        let rc = tjDecompress2(handle, source.baseAddress, UInt(source.count),
                               destination.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(ow), Int32(pitch), Int32(oh),
                               Int32(TJPF_RGB.rawValue), Int32(TJFLAG_STOPONWARNING))
        guard rc == 0 else {
            throw JPEGError(operation: .decode, message: TurboJPEGMessage.last(handle))
        }
        return (ow, oh)
    }
}

enum TurboJPEGMessage {
    static func last(_ handle: tjhandle?) -> String {
        guard let p = tjGetErrorStr2(handle) else { return "unknown TurboJPEG error" }
        return String(cString: p)
    }
}
