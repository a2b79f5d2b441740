/* int8 kernels with TFLM's reference integer arithmetic (double-rounding requantisation, gemmlowp
 * fixed-point softmax), so a model run here answers exactly as TFLM's reference kernels do. */
#ifndef TP_REF_KERNELS_H
#define TP_REF_KERNELS_H

#include "ref_plan.h"

/* Runs one operator of the plan on the arena. */
void tp_ref_run(const tp_ref_op *op, int8_t *arena);

#endif
