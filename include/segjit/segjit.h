/* segjit/segjit.h: the umbrella header; include this one. */
#ifndef SEGJIT_SEGJIT_H
#define SEGJIT_SEGJIT_H

#include "segjit/accessor.h"
#include "segjit/kernel.h"
#include "segjit/layout.h"
#include "segjit/segment.h"
#include "segjit/status.h"
#include "segjit/view.h"

#endif
