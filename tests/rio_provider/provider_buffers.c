/*
 * provider_buffers.c - RIORegisterBuffer / RIODeregisterBuffer, and the
 * check every RIO_BUF of a send or receive goes through: a registered id,
 * Offset + Length inside that registration, Length > 0.
 *
 * A registration stays referenced by each request naming it until the
 * request's result is dequeued (real RIO releases "the association with
 * its buffer and buffer registration" only then); deregistering it before
 * is a violation.
 */
#include "provider_internal.h"

#include <stdlib.h>

#define PROV_MAX_BUFFERS 4096

static prov_table prov_buffers = {.cap = PROV_MAX_BUFFERS, .kind = PROV_KIND_BUFFER};

RIO_BUFFERID PASCAL prov_RIORegisterBuffer(PCHAR data, DWORD length)
{
    if (!data || length == 0) {
        prov_violation("RIORegisterBuffer(%p, %lu): no buffer to register", (void *)data, (unsigned long)length);
        return RIO_INVALID_BUFFERID;
    }
    prov_buffer *b = calloc(1, sizeof(*b));
    if (!b) {
        WSASetLastError(WSAENOBUFS);
        return RIO_INVALID_BUFFERID;
    }
    b->base = data;
    b->len = length;
    prov_lock();
    b->handle = prov_table_add(&prov_buffers, b);
    prov_unlock();
    if (!b->handle) {
        free(b);
        WSASetLastError(WSAENOBUFS);
        return RIO_INVALID_BUFFERID;
    }
    PROV_COUNT(registers);
    return (RIO_BUFFERID)(uintptr_t)b->handle;
}

VOID PASCAL prov_RIODeregisterBuffer(RIO_BUFFERID id)
{
    prov_lock();
    prov_buffer *b = prov_table_get(&prov_buffers, prov_handle_of(id));
    if (!b) {
        prov_unlock();
        prov_violation("RIODeregisterBuffer(%p): not a registered buffer id (never registered, or deregistered already)",
                       (void *)id);
        return;
    }
    if (b->refs > 0) {
        uint32_t refs = b->refs;
        prov_unlock();
        prov_violation("RIODeregisterBuffer(%p): %u request(s) naming it are outstanding (not yet dequeued)",
                       (void *)id, (unsigned)refs);
        return;
    }
    prov_table_remove(&prov_buffers, b->handle);
    prov_unlock();
    free(b);
    PROV_COUNT(deregisters);
}

prov_buffer *prov_buffer_check(const RIO_BUF *buf, const char *call)
{
    prov_buffer *b = prov_table_get(&prov_buffers, prov_handle_of(buf->BufferId));
    if (!b) {
        prov_violation("%s: RIO_BUF names buffer id %p, which is not registered", call, (void *)buf->BufferId);
        return NULL;
    }
    if (buf->Length == 0) {
        prov_violation("%s: RIO_BUF of buffer id %p has Length 0", call, (void *)buf->BufferId);
        return NULL;
    }
    if (buf->Offset > b->len || buf->Length > b->len - buf->Offset) {
        prov_violation("%s: RIO_BUF {Offset %lu, Length %lu} lies outside buffer id %p's %lu registered bytes", call,
                       (unsigned long)buf->Offset, (unsigned long)buf->Length, (void *)buf->BufferId,
                       (unsigned long)b->len);
        return NULL;
    }
    return b;
}

void prov_buffers_free_all(void)
{
    prov_lock();
    for (uint32_t i = 0; prov_buffers.slots && i < prov_buffers.cap; i++) free(prov_buffers.slots[i]);
    prov_table_free(&prov_buffers);
    prov_unlock();
}
