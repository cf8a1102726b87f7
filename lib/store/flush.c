/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/store/flush.c - kk_store_flush(): the public face of
 * kk_store__flush(), for hosts that must know their rows are committed
 * before they answer someone (kakou gateway answers C-STORE Success only
 * then).
 */
#include "core/core.h"
#include "store/store_internal.h"

kk_status kk_store_flush(kk_store *store, kk_ctx *ctx)
{
    if (!store)
        return kk__fail(ctx, KK_EINVAL, "kk_store_flush: no store");
    return kk_store__flush(store, ctx);
}
