#include "inet_text.h"

#include <stdio.h>
#include <string.h>

/* Reads a decimal octet at *p ("0".."255", no leading zero). */
static bool take_octet(const char **p, uint8_t *out)
{
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return false;
    unsigned v = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9') {
        if (digits == 1 && v == 0)
            return false; /* a leading zero */
        v = v * 10u + (unsigned)(*s++ - '0');
        if (++digits > 3 || v > 255)
            return false;
    }
    *out = (uint8_t)v;
    *p = s;
    return true;
}

bool fp_ipv4_parse(const char *text, uint8_t out[4])
{
    uint8_t bytes[4];
    const char *p = text;
    for (int i = 0; i < 4; i++) {
        if (i > 0 && *p++ != '.')
            return false;
        if (!take_octet(&p, &bytes[i]))
            return false;
    }
    if (*p != '\0')
        return false;
    memcpy(out, bytes, sizeof bytes);
    return true;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The groups before and after "::" are parsed into `words`; `gap` is where
 * the "::" stands (-1 without one). */
bool fp_ipv6_parse(const char *text, uint8_t out[16])
{
    uint16_t words[8] = {0};
    int n = 0, gap = -1;
    const char *p = text;
    if (p[0] == ':') {
        if (p[1] != ':')
            return false;
        gap = 0;
        p += 2;
    }
    while (*p != '\0') {
        if (n == 8)
            return false;
        const char *group = p;
        unsigned v = 0;
        int digits = 0;
        for (int h; (h = hex_value(*p)) >= 0; p++) {
            if (++digits > 4)
                return false;
            v = v << 4 | (unsigned)h;
        }
        if (*p == '.') { /* the last 32 bits as a dotted quad */
            uint8_t quad[4];
            if (n > 6 || !fp_ipv4_parse(group, quad))
                return false;
            words[n++] = (uint16_t)(quad[0] << 8 | quad[1]);
            words[n++] = (uint16_t)(quad[2] << 8 | quad[3]);
            break;
        }
        if (digits == 0)
            return false;
        words[n++] = (uint16_t)v;
        if (*p == '\0')
            break;
        if (*p++ != ':')
            return false;
        if (*p == ':') {
            if (gap >= 0)
                return false; /* a second "::" */
            gap = n;
            p++;
        } else if (*p == '\0') {
            return false; /* a trailing single ':' */
        }
    }
    if (gap < 0 ? n != 8 : n > 7)
        return false;
    uint16_t full[8] = {0};
    int tail = gap < 0 ? 0 : n - gap;
    memcpy(full, words, (size_t)(n - tail) * sizeof *words);
    memcpy(full + 8 - tail, words + n - tail, (size_t)tail * sizeof *words);
    for (int i = 0; i < 8; i++) {
        out[2 * i] = (uint8_t)(full[i] >> 8);
        out[2 * i + 1] = (uint8_t)full[i];
    }
    return true;
}

void fp_ipv4_format(const uint8_t in[4], char out[FP_IPV4_TEXT_MAX])
{
    snprintf(out, FP_IPV4_TEXT_MAX, "%u.%u.%u.%u", in[0], in[1], in[2], in[3]);
}

void fp_ipv6_format(const uint8_t in[16], char out[FP_IPV6_TEXT_MAX])
{
    uint16_t words[8];
    for (int i = 0; i < 8; i++)
        words[i] = (uint16_t)(in[2 * i] << 8 | in[2 * i + 1]);

    static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(in, mapped_prefix, sizeof mapped_prefix) == 0) {
        snprintf(out, FP_IPV6_TEXT_MAX, "::ffff:%u.%u.%u.%u", in[12], in[13], in[14], in[15]);
        return;
    }
    int best = -1, best_len = 1; /* a single zero group stays "0" */
    for (int i = 0; i < 8;) {
        int run = 0;
        while (i + run < 8 && words[i + run] == 0)
            run++;
        if (run > best_len) {
            best = i;
            best_len = run;
        }
        i += run ? run : 1;
    }
    char *o = out;
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            *o++ = ':';
            if (i == 0)
                *o++ = ':';
            i += best_len - 1;
            continue;
        }
        o += sprintf(o, "%x", (unsigned)words[i]);
        if (i < 7)
            *o++ = ':';
    }
    *o = '\0';
}
