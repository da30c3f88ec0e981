//go:build !amd64 || purego

package tagger

// wordsIn is wordsInGo where there is no assembly version.
func (c *wordCache) wordsIn(text []byte, bm []uint64, i int, gap uint8, toks *[wordBatch]token, cands *[wordBatch]int32) (int, uint8, int, int) {
	return c.wordsInGo(text, bm, i, gap, toks, cands)
}

const haveWordsInAsm = false

// wordBitmapBlocks sets bm[k] to wordBits64(text, 64k) for every k.
func wordBitmapBlocks(text string, bm []uint64) {
	for k := range bm {
		bm[k] = wordBits64(text, k*64)
	}
}

// runesBefore is runesBeforeGo.
func runesBefore(text []byte, runes []int32) int32 { return runesBeforeGo(text, runes) }
