import Foundation
import TesseraCore

/// Optical density OD = −ln((I + 1) / I₀) of 8-bit intensities, and back, by tables: the stain
/// methods spend most of their time here, and a table read is far cheaper than `log` or `exp`.
///
/// I₀ = 240 as in Macenko's reference code and MONAI (the transmitted light of a typical
/// scanner), so the built-in reference stain vectors and maxima mean what they mean there. Glass
/// (I = 255) has a slightly negative OD; the round trip byte → OD → byte is exact.
public enum OpticalDensity {
    public static let incidentLight: Float = 240

    /// OD of each byte value.
    public static let fromByte: [Float] = (0..<256).map { -Float(log((Double($0) + 1) / Double(incidentLight))) }

    /// The OD range the inverse table covers; outside it the byte is clamped (0 or 255).
    static let minimum: Float = -0.1
    static let maximum: Float = 6.5
    /// Table steps per unit of OD: half a step moves a byte by at most 240·e^0.1/2048 ≈ 0.13.
    static let stepsPerUnit: Float = 1024
    static let toByteTable: [UInt8] = {
        let n = Int(((maximum - minimum) * stepsPerUnit).rounded()) + 1
        return (0..<n).map { k in
            let od = Double(minimum) + Double(k) / Double(stepsPerUnit)
            let value = Double(incidentLight) * exp(-od) - 1
            return UInt8(min(255, max(0, value.rounded())))
        }
    }()

    /// The byte whose OD is nearest `od` (clamped to 0…255).
    @inline(__always) public static func byte(_ od: Float, table: UnsafePointer<UInt8>, count: Int) -> UInt8 {
        let k = (od - minimum) * stepsPerUnit + 0.5
        if !(k > 0) { return table[0] }
        let i = Int(k)
        return i >= count ? table[count - 1] : table[i]
    }
}
