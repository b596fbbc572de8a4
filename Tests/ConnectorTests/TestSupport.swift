/// UTF-8 bytes of a string, as the slices the decoder hands out.
func utf8(_ text: String) -> ArraySlice<UInt8> {
    Array(text.utf8)[...]
}
