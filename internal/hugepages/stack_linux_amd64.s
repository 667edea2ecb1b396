#include "textflag.h"
#include "funcdata.h"

// func growStack() uintptr
//
// The frame is stackFrame bytes (stack_linux_amd64.go), of which the
// function touches only the top, where the prologue saves the frame
// pointer. It holds no pointers, for a collection that scans it.
TEXT ·growStack(SB), 0, $8388608-8
	NO_LOCAL_POINTERS
	LEAQ 0(SP), AX
	MOVQ AX, ret+0(FP)
	RET
