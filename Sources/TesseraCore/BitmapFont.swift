/// A minimal 3×5 pixel font (upper-case letters, digits, a few signs) for legends drawn into
/// pictures (the tiler's QC picture). Text is drawn in one colour, each glyph pixel `scale`²
/// image pixels, one blank column between glyphs; unknown characters draw as blanks.
public enum BitmapFont {
    public static let glyphWidth = 3
    public static let glyphHeight = 5

    /// Rows top to bottom, each three characters, `#` set.
    static let glyphs: [Character: [String]] = [
        "A": [".#.", "#.#", "###", "#.#", "#.#"], "B": ["##.", "#.#", "##.", "#.#", "##."],
        "C": [".##", "#..", "#..", "#..", ".##"], "D": ["##.", "#.#", "#.#", "#.#", "##."],
        "E": ["###", "#..", "##.", "#..", "###"], "F": ["###", "#..", "##.", "#..", "#.."],
        "G": [".##", "#..", "#.#", "#.#", ".##"], "H": ["#.#", "#.#", "###", "#.#", "#.#"],
        "I": ["###", ".#.", ".#.", ".#.", "###"], "J": ["..#", "..#", "..#", "#.#", ".#."],
        "K": ["#.#", "#.#", "##.", "#.#", "#.#"], "L": ["#..", "#..", "#..", "#..", "###"],
        "M": ["#.#", "###", "###", "#.#", "#.#"], "N": ["##.", "#.#", "#.#", "#.#", "#.#"],
        "O": [".#.", "#.#", "#.#", "#.#", ".#."], "P": ["##.", "#.#", "##.", "#..", "#.."],
        "Q": [".#.", "#.#", "#.#", "##.", ".##"], "R": ["##.", "#.#", "##.", "#.#", "#.#"],
        "S": [".##", "#..", ".#.", "..#", "##."], "T": ["###", ".#.", ".#.", ".#.", ".#."],
        "U": ["#.#", "#.#", "#.#", "#.#", "###"], "V": ["#.#", "#.#", "#.#", "#.#", ".#."],
        "W": ["#.#", "#.#", "###", "###", "#.#"], "X": ["#.#", "#.#", ".#.", "#.#", "#.#"],
        "Y": ["#.#", "#.#", ".#.", ".#.", ".#."], "Z": ["###", "..#", ".#.", "#..", "###"],
        "0": ["###", "#.#", "#.#", "#.#", "###"], "1": [".#.", "##.", ".#.", ".#.", "###"],
        "2": ["##.", "..#", ".#.", "#..", "###"], "3": ["##.", "..#", ".#.", "..#", "##."],
        "4": ["#.#", "#.#", "###", "..#", "..#"], "5": ["###", "#..", "##.", "..#", "##."],
        "6": [".##", "#..", "###", "#.#", "###"], "7": ["###", "..#", ".#.", ".#.", ".#."],
        "8": ["###", "#.#", "###", "#.#", "###"], "9": ["###", "#.#", "###", "..#", "##."],
        ".": ["...", "...", "...", "...", ".#."], ",": ["...", "...", "...", ".#.", "#.."],
        "%": ["#.#", "..#", ".#.", "#..", "#.#"], "-": ["...", "...", "###", "...", "..."],
        ":": ["...", ".#.", "...", ".#.", "..."], "/": ["..#", "..#", ".#.", "#..", "#.."],
        "(": [".#.", "#..", "#..", "#..", ".#."], ")": [".#.", "..#", "..#", "..#", ".#."],
        " ": ["...", "...", "...", "...", "..."],
    ]

    /// Width in image pixels of `text` at `scale`.
    public static func width(of text: String, scale: Int) -> Int {
        text.isEmpty ? 0 : (text.count * (glyphWidth + 1) - 1) * scale
    }

    /// Draws `text` (upper-cased) with its top-left corner at (x, y); pixels outside are clipped.
    public static func draw(_ text: String, into image: inout RGBImage, x: Int, y: Int, scale: Int = 2,
                            colour: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        var left = x
        for character in text.uppercased() {
            let rows = glyphs[character] ?? glyphs[" "]!
            for (gy, row) in rows.enumerated() {
                for (gx, bit) in row.enumerated() where bit == "#" {
                    for sy in 0..<scale {
                        for sx in 0..<scale {
                            let px = left + gx * scale + sx, py = y + gy * scale + sy
                            guard px >= 0 && py >= 0 && px < image.width && py < image.height else { continue }
                            let i = (py * image.width + px) * 3
                            image.pixels[i] = colour.0
                            image.pixels[i + 1] = colour.1
                            image.pixels[i + 2] = colour.2
                        }
                    }
                }
            }
            left += (glyphWidth + 1) * scale
        }
    }
}
