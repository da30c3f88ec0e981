//go:build amd64 && !purego

#include "textflag.h"

// func wordsInAsm(text []byte, bm []uint64, entries *[1 << wordCacheBits]cachedWord, i int, gap uint8, toks *[wordBatch]token, cands *[wordBatch]int32) (next int, gapOut uint8, n, listed int)
//
// wordsInGo (wordcache.go), step by step, with its values kept in
// registers: SI text, R8 the last i with 16 bytes to read, DI the bitmap,
// R9 the cache's entries, BX i, DX the gap, R10 the next token, R11 the
// next candidate, R12 the tokens written. The layouts of cachedWord (lo,
// hi, strict, fold) and token (start, end int32; strict, fold; gap,
// flags uint8; 32 bytes) are checked by TestWordsInAsmLayout.
TEXT ·wordsInAsm(SB), NOSPLIT, $24-120
	MOVQ text_base+0(FP), SI
	MOVQ text_len+8(FP), R8
	SUBQ $16, R8
	MOVQ bm_base+24(FP), DI
	MOVQ entries+48(FP), R9
	MOVQ i+56(FP), BX
	MOVBQZX gap+64(FP), DX
	MOVQ toks+72(FP), R10
	MOVQ cands+80(FP), R11
	XORQ R12, R12

loop:
	CMPQ BX, R8
	JGT  done
	CMPQ R12, $1024
	JGE  done

	// AX: the bitmap's 64 bits from bit i on (window).
	MOVQ BX, AX
	SHRQ $6, AX
	MOVQ 8(DI)(AX*8), R13
	MOVQ (DI)(AX*8), AX
	MOVQ BX, CX
	SHRQ CX, R13, AX
	TESTQ $1, AX
	JEQ  done

	// CX: the word's size; not cached past 15 bytes.
	MOVQ AX, R13
	NOTQ R13
	BSFQ R13, CX
	JEQ  done
	CMPQ CX, $15
	JHI  done
	MOVQ CX, size-8(SP)

	// The separators after it, up to the window's end.
	SHRQ CX, AX
	MOVQ $64, R13
	SUBQ CX, R13
	BSFQ AX, AX
	CMOVQEQ R13, AX
	MOVQ AX, seps-16(SP)

	// AX, R13: the word's 16 bytes, those past it zeroed (byteMasks).
	SHLQ $4, CX
	LEAQ ·byteMasks(SB), R13
	ADDQ CX, R13
	MOVQ (SI)(BX*1), AX
	ANDQ (R13), AX
	MOVQ 8(R13), R13
	ANDQ 8(SI)(BX*1), R13
	MOVQ R13, hi-24(SP)

	// CX: its entry (slot).
	MOVQ $0xC2B2AE3D27D4EB4F, CX
	IMULQ CX, R13
	MOVQ $0x9E3779B97F4A7C15, CX
	IMULQ AX, CX
	XORQ R13, CX
	SHRQ $50, CX
	SHLQ $5, CX
	ADDQ R9, CX

	// A hit: the same bytes (hi's top byte holds the flags).
	CMPQ AX, (CX)
	JNE  done
	MOVQ 8(CX), AX
	MOVQ hi-24(SP), R13
	XORQ AX, R13
	SHLQ $8, R13
	JNE  done
	SHRQ $56, AX

	// The token.
	MOVL BX, 0(R10)
	MOVQ size-8(SP), R13
	ADDQ BX, R13
	MOVL R13, 4(R10)
	MOVQ 16(CX), R13
	MOVQ R13, 8(R10)
	MOVQ 24(CX), R13
	MOVQ R13, 16(R10)
	MOVB DL, 24(R10)
	MOVL AX, R13
	ANDL $7, R13
	MOVB R13, 25(R10)

	// Listed when it may start a pattern (startsBit), without a branch.
	MOVL R12, (R11)
	ANDL $8, AX
	SHRL $1, AX
	ADDQ AX, R11
	INCQ R12
	ADDQ $32, R10

	// The separators: i moves past them, gathering their gap flags.
	MOVQ size-8(SP), CX
	ADDQ CX, BX
	MOVQ seps-16(SP), AX
	ADDQ BX, AX
	LEAQ 16(R8), CX
	CMPQ AX, CX
	CMOVQGT CX, AX
	MOVBQZX (SI)(BX*1), CX
	LEAQ ·asciiGap(SB), R13
	MOVBQZX (R13)(CX*1), DX
	INCQ BX

sepLoop:
	CMPQ BX, AX
	JGE  loop
	MOVBQZX (SI)(BX*1), CX
	ORB  (R13)(CX*1), DL
	INCQ BX
	JMP  sepLoop

done:
	MOVQ BX, next+88(FP)
	MOVB DL, gapOut+96(FP)
	MOVQ R12, n+104(FP)
	MOVQ R11, AX
	SUBQ cands+80(FP), AX
	SHRQ $2, AX
	MOVQ AX, listed+112(FP)
	RET

// SPLAT16 defines name as 16 bytes of the byte b.
#define SPLAT16(name, b) \
	DATA name+0(SB)/8, $(b*0x0101010101010101); \
	DATA name+8(SB)/8, $(b*0x0101010101010101); \
	GLOBL name(SB), RODATA|NOPTR, $16

// Byte vectors for wordBitmapAsm's comparisons.
SPLAT16(·bmSlash<>, 0x2F)
SPLAT16(·bmColon<>, 0x3A)
SPLAT16(·bmCase<>, 0x20)
SPLAT16(·bmTick<>, 0x60)
SPLAT16(·bmBrace<>, 0x7B)

// CLASSIFY sets bit j of dst when byte j of the 16 at off(SI) may be part
// of a word (wordBytes): a byte of 0x80 or more, or ASCII '0'-'9', 'a'-'z',
// 'A'-'Z'. Signed byte compares: bytes of 0x80 or more compare below every
// bound, and their own high bit marks them.
#define CLASSIFY(off, dst) \
	MOVOU off(SI), X0 \
	MOVO  X0, X1 \
	PCMPGTB X8, X1 \
	MOVO  X9, X2 \
	PCMPGTB X0, X2 \
	PAND  X2, X1 \
	MOVO  X0, X3 \
	POR   X10, X3 \
	MOVO  X3, X4 \
	PCMPGTB X11, X4 \
	MOVO  X12, X5 \
	PCMPGTB X3, X5 \
	PAND  X5, X4 \
	POR   X4, X1 \
	POR   X0, X1 \
	PMOVMSKB X1, dst

// func wordBitmapAsm(text []byte, bm []uint64)
//
// bm[k] = wordBits64(text, 64k) for every k: 16 bytes at a time with SSE2
// (part of every amd64 CPU). text has 64 bytes for every word of bm.
TEXT ·wordBitmapAsm(SB), NOSPLIT, $0-48
	MOVQ text_base+0(FP), SI
	MOVQ bm_base+24(FP), DI
	MOVQ bm_len+32(FP), CX
	MOVOU ·bmSlash<>(SB), X8
	MOVOU ·bmColon<>(SB), X9
	MOVOU ·bmCase<>(SB), X10
	MOVOU ·bmTick<>(SB), X11
	MOVOU ·bmBrace<>(SB), X12
	TESTQ CX, CX
	JEQ   bmDone

bmLoop:
	CLASSIFY(0, AX)
	CLASSIFY(16, BX)
	SHLQ $16, BX
	ORQ  BX, AX
	CLASSIFY(32, BX)
	SHLQ $32, BX
	ORQ  BX, AX
	CLASSIFY(48, BX)
	SHLQ $48, BX
	ORQ  BX, AX
	MOVQ AX, (DI)
	ADDQ $64, SI
	ADDQ $8, DI
	DECQ CX
	JNE  bmLoop

bmDone:
	RET

// Continuation bytes (10xxxxxx) are, as signed bytes, below -64 (0xC0).
SPLAT16(·contBound<>, 0xC0)

// popcount8[b] is the number of bits set in b.
DATA ·popcount8<>+0(SB)/8, $0x0302020102010100
DATA ·popcount8<>+8(SB)/8, $0x0403030203020201
DATA ·popcount8<>+16(SB)/8, $0x0403030203020201
DATA ·popcount8<>+24(SB)/8, $0x0504040304030302
DATA ·popcount8<>+32(SB)/8, $0x0403030203020201
DATA ·popcount8<>+40(SB)/8, $0x0504040304030302
DATA ·popcount8<>+48(SB)/8, $0x0504040304030302
DATA ·popcount8<>+56(SB)/8, $0x0605050405040403
DATA ·popcount8<>+64(SB)/8, $0x0403030203020201
DATA ·popcount8<>+72(SB)/8, $0x0504040304030302
DATA ·popcount8<>+80(SB)/8, $0x0504040304030302
DATA ·popcount8<>+88(SB)/8, $0x0605050405040403
DATA ·popcount8<>+96(SB)/8, $0x0504040304030302
DATA ·popcount8<>+104(SB)/8, $0x0605050405040403
DATA ·popcount8<>+112(SB)/8, $0x0605050405040403
DATA ·popcount8<>+120(SB)/8, $0x0706060506050504
DATA ·popcount8<>+128(SB)/8, $0x0403030203020201
DATA ·popcount8<>+136(SB)/8, $0x0504040304030302
DATA ·popcount8<>+144(SB)/8, $0x0504040304030302
DATA ·popcount8<>+152(SB)/8, $0x0605050405040403
DATA ·popcount8<>+160(SB)/8, $0x0504040304030302
DATA ·popcount8<>+168(SB)/8, $0x0605050405040403
DATA ·popcount8<>+176(SB)/8, $0x0605050405040403
DATA ·popcount8<>+184(SB)/8, $0x0706060506050504
DATA ·popcount8<>+192(SB)/8, $0x0504040304030302
DATA ·popcount8<>+200(SB)/8, $0x0605050405040403
DATA ·popcount8<>+208(SB)/8, $0x0605050405040403
DATA ·popcount8<>+216(SB)/8, $0x0706060506050504
DATA ·popcount8<>+224(SB)/8, $0x0605050405040403
DATA ·popcount8<>+232(SB)/8, $0x0706060506050504
DATA ·popcount8<>+240(SB)/8, $0x0706060506050504
DATA ·popcount8<>+248(SB)/8, $0x0807070607060605
GLOBL ·popcount8<>(SB), RODATA|NOPTR, $256

// func runesBeforeAsm(text []byte, runes []int32, count int32) int32
//
// runesBeforeGo (tag.go) for an even number of counts, 16 bytes at a time
// with SSE2, counting on from count: runes[k] is count plus the runes of
// text before byte 8k, and the result count plus the runes of
// text[:8*len(runes)].
TEXT ·runesBeforeAsm(SB), NOSPLIT, $0-60
	MOVQ text_base+0(FP), SI
	MOVQ runes_base+24(FP), DI
	MOVQ runes_len+32(FP), CX
	SHRQ $1, CX
	MOVL count+48(FP), AX
	MOVOU ·contBound<>(SB), X8
	LEAQ ·popcount8<>(SB), R8
	TESTQ CX, CX
	JEQ  rbDone

rbLoop:
	MOVOU (SI), X0
	MOVO  X8, X1
	PCMPGTB X0, X1
	PMOVMSKB X1, DX
	MOVL AX, (DI)
	MOVBLZX DL, BX
	MOVBLZX (R8)(BX*1), BX
	ADDL $8, AX
	SUBL BX, AX
	MOVL AX, 4(DI)
	SHRL $8, DX
	MOVBLZX (R8)(DX*1), BX
	ADDL $8, AX
	SUBL BX, AX
	ADDQ $16, SI
	ADDQ $8, DI
	DECQ CX
	JNE  rbLoop

rbDone:
	MOVL AX, ret+56(FP)
	RET
