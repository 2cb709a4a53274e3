/// A 5×7 pixel bitmap font for printable ASCII (and `µ`, `×`, `–` drawn as `u`-like µ, x and -),
/// so pictures can carry their own words and numbers without a font library. Glyphs are the
/// classic 5×7 LCD character set: five column bytes each, bit 0 the top row. Characters it lacks
/// are drawn as `?`.
public enum BitmapFont {
    public static let glyphWidth = 5
    public static let glyphHeight = 7
    /// Horizontal step from one character to the next (one pixel of space), at scale 1.
    public static let advance = 6

    /// The five column bytes of `c` (bit r set: row r, from the top, is ink).
    public static func columns(of c: Character) -> ArraySlice<UInt8> {
        let code: Int
        switch c {
        case "µ": return [0x7C, 0x20, 0x20, 0x10, 0x3C][...]
        case "×": code = Int(Character("x").asciiValue!)
        case "–", "—": code = Int(Character("-").asciiValue!)
        default: code = c.asciiValue.map(Int.init).flatMap { (32...126).contains($0) ? $0 : nil } ?? Int(Character("?").asciiValue!)
        }
        let i = (code - 32) * 5
        return glyphs[i..<(i + 5)]
    }

    /// Whether row `row` (0 top … 6) of column `column` (0 … 4) of `c` is ink.
    public static func isInk(_ c: Character, column: Int, row: Int) -> Bool {
        let cols = columns(of: c)
        return cols[cols.startIndex + column] & (1 << UInt8(row)) != 0
    }

    /// Width in pixels of `text` drawn at `scale` (no trailing space).
    public static func width(of text: String, scale: Int) -> Int {
        text.isEmpty ? 0 : (text.count * advance - 1) * scale
    }

    /// ASCII 32 (space) … 126 (~), five column bytes each, parsed from `table`.
    static let glyphs: [UInt8] = table.split(whereSeparator: \.isWhitespace).flatMap { glyph in
        stride(from: 0, to: glyph.count, by: 2).map { k in
            UInt8(glyph.dropFirst(k).prefix(2), radix: 16)!
        }
    }

    /// One glyph a word: its five column bytes in hex. Eight glyphs a line, from ASCII 32 (space):
    /// line 1 is space ! " # $ % & ', line 2 ( ) * + , - . /, and so on to ~.
    private static let table = """
        0000000000 00005F0000 0007000700 147F147F14 242A7F2A12 2313086462 3649552250 0005030000
        001C224100 0041221C00 082A1C2A08 08083E0808 0050300000 0808080808 0060600000 2010080402
        3E5149453E 00427F4000 4261514946 2141454B31 1814127F10 2745454539 3C4A494930 0171090503
        3649494936 064949291E 0036360000 0056360000 0814224100 1414141414 0041221408 0201510906
        324979413E 7E1111117E 7F49494936 3E41414122 7F4141221C 7F49494941 7F09090101 3E41415132
        7F0808087F 00417F4100 2040413F01 7F08142241 7F40404040 7F0204027F 7F0408107F 3E4141413E
        7F09090906 3E4151215E 7F09192946 4649494931 01017F0101 3F4040403F 1F2040201F 7F2018207F
        6314081463 0304780403 6151494543 007F414100 0204081020 0041417F00 0402010204 4040404040
        0001020400 2054545478 7F48444438 3844444420 384444487F 3854545418 087E090102 081454543C
        7F08040478 00447D4000 2040443D00 007F102844 00417F4000 7C04180478 7C08040478 3844444438
        7C14141408 081414187C 7C08040408 4854545420 043F444020 3C4040207C 1C2040201C 3C4030403C
        4428102844 0C5050503C 4464544C44 0008364100 00007F0000 0041360800 0804081008
        """
}
