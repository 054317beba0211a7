/* tools/numtext.h: numbers as text for the tool's output: the shortest decimal that reads
 * back to the same bits (f32 through strtof, f64 through strtod), NaN with its sign.
 * Output formats (CSV, JSON) and their quoting do not belong here. */
#ifndef SEGJIT_TOOLS_NUMTEXT_H
#define SEGJIT_TOOLS_NUMTEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Room for any text written below, with its NUL. */
#define NUMTEXT_MAX 48

/* The shortest decimal that strtof (f32) or strtod (f64) reads back as exactly v, in the
 * style of %g: plain notation for decimal exponents -4..max(digits, 6) - 1, else d.ddde+XX.
 * Zero is "0" or "-0"; infinities "inf", "-inf"; NaN "nan" or "-nan" (its sign kept, its
 * payload not). Returns the number of significant digits written (0 for non-finite). */
int numtext_f32(float v, char buf[NUMTEXT_MAX]);
int numtext_f64(double v, char buf[NUMTEXT_MAX]);

#endif
