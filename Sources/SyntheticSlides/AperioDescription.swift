import Foundation

/// The ImageDescription text of an Aperio `.svs` file's first directory, which makes OpenSlide
/// report vendor `aperio` and, when present, `openslide.mpp-x/-y` and `openslide.objective-power`.
///
///     Aperio Image Library v11.2.1
///     4096x3072 [0,0 4096x3072] (240x240) JPEG/RGB Q=90|AppMag = 20|MPP = 0.4990|Filename = TCGA-SY-0001-01A-01-TS1
///
/// The class label is deliberately absent: the pipeline must learn it from pixels.
public enum AperioDescription {
    public static func text(for spec: SlideSpec, tileSize: Int, quality: Int) -> String {
        let w = spec.width, h = spec.height
        var s = "Aperio Image Library v11.2.1\n\(w)x\(h) [0,0 \(w)x\(h)] (\(tileSize)x\(tileSize)) JPEG/RGB Q=\(quality)"
        if let power = spec.scan.recordedObjectivePower, let mpp = spec.scan.recordedMicronsPerPixel {
            s += "|AppMag = \(power)|MPP = \(String(format: "%.4f", mpp))"
        }
        s += "|Filename = \(spec.slideID)"
        return s
    }
}
