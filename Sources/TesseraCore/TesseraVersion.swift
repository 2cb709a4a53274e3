/// Tessera's version, recorded in every store, checkpoint and model for provenance.
public enum TesseraVersion {
    public static let current = "0.1.0"
}
