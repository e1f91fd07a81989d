/* The --plot SVG: latency CDF and throughput bars, drawn by hand. */
#include "bench_svg.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <string.h>

#include "bench_table.h"

#define SVG_WIDTH 960
#define SVG_HEIGHT 920
#define PLOT_LEFT 90.0
#define PLOT_WIDTH 620.0
#define LEGEND_X 740.0
#define CDF_TOP 70.0
#define CDF_HEIGHT 330.0
#define BARS_TOP 530.0
#define BARS_HEIGHT 300.0
#define TICK 6.0

/* Distinguishable on white and for the common colour-vision deficiencies. */
static const char *const palette[] = {
    "#0072b2", "#d55e00", "#009e73", "#cc79a7",
    "#e69f00", "#56b4e9", "#000000", "#999999",
};
#define PALETTE_SIZE (sizeof(palette) / sizeof(palette[0]))

static void put_escaped(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        default:
            /* control characters other than tab are not allowed in XML 1.0 */
            fputc((unsigned char)*s < 0x20 && *s != '\t' ? '?' : *s, out);
        }
    }
}

static void text_at(FILE *out, double x, double y, const char *anchor, const char *extra, const char *text)
{
    fprintf(out, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"%s\"%s>", x, y, anchor, extra);
    put_escaped(out, text);
    fputs("</text>\n", out);
}

static void line_at(FILE *out, double x1, double y1, double x2, double y2, const char *style)
{
    fprintf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" %s/>\n", x1, y1, x2, y2, style);
}

/* A round step (1, 2 or 5 times a power of ten) giving about `target`
 * intervals over `range`. */
static double nice_step(double range, int target)
{
    if (!(range > 0.0))
        return 1.0;
    double raw = range / target;
    double magnitude = pow(10.0, floor(log10(raw)));
    double f = raw / magnitude;
    double nice = f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0;
    return nice * magnitude;
}

/* A tick value with as many decimals as the step needs. */
static void format_tick(char *buf, size_t size, double value, double step)
{
    int decimals = 0;
    while (decimals < 6 && step * pow(10.0, decimals) < 0.999)
        decimals++;
    snprintf(buf, size, "%.*f", decimals, value);
}

typedef struct x_axis {
    bool log;
    double lo; /* us, or log10(us) */
    double hi;
} x_axis;

static double x_pos(const x_axis *ax, double us)
{
    double v = us;
    if (ax->log)
        v = log10(us > 0.0 ? us : 1e-3);
    double t = (v - ax->lo) / (ax->hi - ax->lo);
    if (t < 0.0)
        t = 0.0;
    if (t > 1.0)
        t = 1.0;
    return PLOT_LEFT + t * PLOT_WIDTH;
}

static double cdf_y(double fraction)
{
    return CDF_TOP + CDF_HEIGHT - fraction * CDF_HEIGHT;
}

static x_axis cdf_axis(const fp_bench_series *series, size_t n, bool linear)
{
    double min_us = 0.0, max_us = 0.0;
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (series[i].n_rtt == 0)
            continue;
        double lo = (double)series[i].rtt_sorted_ns[0] / 1e3;
        double hi = (double)series[i].rtt_sorted_ns[series[i].n_rtt - 1] / 1e3;
        if (!any || lo < min_us)
            min_us = lo;
        if (!any || hi > max_us)
            max_us = hi;
        any = true;
    }
    x_axis ax;
    ax.log = !linear;
    if (!any) {
        min_us = 1.0;
        max_us = 1000.0;
    }
    if (ax.log) {
        if (min_us < 1e-3)
            min_us = 1e-3;
        if (max_us < min_us)
            max_us = min_us;
        ax.lo = floor(log10(min_us));
        ax.hi = ceil(log10(max_us));
        if (ax.hi <= ax.lo)
            ax.hi = ax.lo + 1.0;
    } else {
        double step = nice_step(max_us, 8);
        ax.lo = 0.0;
        ax.hi = ceil(max_us / step) * step;
        if (!(ax.hi > 0.0))
            ax.hi = 1.0;
    }
    return ax;
}

static void draw_cdf_axes(FILE *out, const x_axis *ax)
{
    const double bottom = CDF_TOP + CDF_HEIGHT;
    const char *grid = "stroke=\"#dddddd\" stroke-width=\"1\"";
    const char *tick = "stroke=\"#000000\" stroke-width=\"1\"";
    char label[32];

    for (int i = 0; i <= 4; i++) {
        double f = i / 4.0;
        line_at(out, PLOT_LEFT, cdf_y(f), PLOT_LEFT + PLOT_WIDTH, cdf_y(f), grid);
        line_at(out, PLOT_LEFT - TICK, cdf_y(f), PLOT_LEFT, cdf_y(f), tick);
        snprintf(label, sizeof(label), "%.2f", f);
        text_at(out, PLOT_LEFT - TICK - 3, cdf_y(f) + 4, "end", "", label);
    }
    if (ax->log) {
        for (int k = (int)ax->lo; k <= (int)ax->hi; k++) {
            double us = pow(10.0, k);
            double x = x_pos(ax, us);
            line_at(out, x, CDF_TOP, x, bottom, grid);
            line_at(out, x, bottom, x, bottom + TICK, tick);
            format_tick(label, sizeof(label), us, us);
            text_at(out, x, bottom + TICK + 14, "middle", "", label);
            for (int m = 2; k < (int)ax->hi && m <= 9; m++) {
                double xm = x_pos(ax, us * m);
                line_at(out, xm, bottom, xm, bottom + TICK / 2, tick);
            }
        }
    } else {
        double step = nice_step(ax->hi - ax->lo, 8);
        for (int i = 0; ax->lo + i * step <= ax->hi * (1 + 1e-9); i++) {
            double us = ax->lo + i * step;
            double x = x_pos(ax, us);
            line_at(out, x, CDF_TOP, x, bottom, grid);
            line_at(out, x, bottom, x, bottom + TICK, tick);
            format_tick(label, sizeof(label), us, step);
            text_at(out, x, bottom + TICK + 14, "middle", "", label);
        }
    }
    fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                 "fill=\"none\" stroke=\"#000000\" stroke-width=\"1\"/>\n",
            PLOT_LEFT, CDF_TOP, PLOT_WIDTH, CDF_HEIGHT);
    fputs("<text x=\"400.00\" y=\"445.00\" text-anchor=\"middle\">RTT (&#181;s", out);
    fputs(ax->log ? ", log scale)</text>\n" : ")</text>\n", out);
    fputs("<text x=\"22.00\" y=\"235.00\" text-anchor=\"middle\" "
          "transform=\"rotate(-90 22.00 235.00)\">fraction of replies</text>\n", out);
}

/* The empirical CDF from (min, 0), then at most MAX_POINTS - 1 samples
 * spread evenly over the sorted set, first and last included. */
static void draw_cdf_line(FILE *out, const x_axis *ax, const fp_bench_series *s, const char *colour)
{
    size_t n = s->n_rtt;
    size_t m = n < FP_BENCH_SVG_MAX_POINTS - 1 ? n : FP_BENCH_SVG_MAX_POINTS - 1;
    fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", colour);
    fprintf(out, "%.2f,%.2f", x_pos(ax, (double)s->rtt_sorted_ns[0] / 1e3), cdf_y(0.0));
    for (size_t i = 0; i < m; i++) {
        size_t idx = m == 1 ? n - 1 : (size_t)(((double)i * (double)(n - 1)) / (double)(m - 1) + 0.5);
        double us = (double)s->rtt_sorted_ns[idx] / 1e3;
        double fraction = (double)(idx + 1) / (double)n;
        fprintf(out, " %.2f,%.2f", x_pos(ax, us), cdf_y(fraction));
    }
    fputs("\"/>\n", out);
}

static void draw_legend(FILE *out, const fp_bench_series *series, size_t n, double top)
{
    for (size_t i = 0; i < n; i++) {
        double y = top + 20.0 * (double)i;
        char style[80];
        snprintf(style, sizeof(style), "stroke=\"%s\" stroke-width=\"3\"", palette[i % PALETTE_SIZE]);
        line_at(out, LEGEND_X, y, LEGEND_X + 24, y, style);
        text_at(out, LEGEND_X + 30, y + 4, "start", "", series[i].name ? series[i].name : "");
    }
}

static void draw_cdf(FILE *out, const fp_bench_series *series, size_t n, bool linear)
{
    x_axis ax = cdf_axis(series, n, linear);
    text_at(out, PLOT_LEFT + PLOT_WIDTH / 2, CDF_TOP - 12, "middle", " font-weight=\"bold\"",
            "Latency CDF (round trip)");
    draw_cdf_axes(out, &ax);
    for (size_t i = 0; i < n; i++)
        if (series[i].n_rtt > 0)
            draw_cdf_line(out, &ax, &series[i], palette[i % PALETTE_SIZE]);
    draw_legend(out, series, n, CDF_TOP + 10);
}

static double bars_y(double value, double top_value)
{
    double t = value / top_value;
    if (t > 1.0)
        t = 1.0;
    if (t < 0.0)
        t = 0.0;
    return BARS_TOP + BARS_HEIGHT - t * BARS_HEIGHT;
}

static void draw_bars(FILE *out, const fp_bench_series *series, size_t n)
{
    const double bottom = BARS_TOP + BARS_HEIGHT;
    const char *grid = "stroke=\"#dddddd\" stroke-width=\"1\"";
    const char *tick = "stroke=\"#000000\" stroke-width=\"1\"";
    char label[48];

    double top_value = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t r = 0; r < series[i].n_runs; r++)
            if (series[i].msgs_per_sec[r] > top_value)
                top_value = series[i].msgs_per_sec[r];
    /* headroom above the tallest whisker for its label */
    top_value = top_value > 0.0 ? top_value * 1.08 : 1.0;
    double step = nice_step(top_value, 6);
    top_value = ceil(top_value / step) * step;

    text_at(out, PLOT_LEFT + PLOT_WIDTH / 2, BARS_TOP - 12, "middle", " font-weight=\"bold\"",
            "Throughput (msgs/s: median, whiskers min-max over runs)");
    for (int i = 0; i * step <= top_value * (1 + 1e-9); i++) {
        double v = i * step;
        line_at(out, PLOT_LEFT, bars_y(v, top_value), PLOT_LEFT + PLOT_WIDTH, bars_y(v, top_value), grid);
        line_at(out, PLOT_LEFT - TICK, bars_y(v, top_value), PLOT_LEFT, bars_y(v, top_value), tick);
        format_tick(label, sizeof(label), v, step);
        text_at(out, PLOT_LEFT - TICK - 3, bars_y(v, top_value) + 4, "end", "", label);
    }

    double slot = n ? PLOT_WIDTH / (double)n : PLOT_WIDTH;
    double width = slot * 0.5 < 120.0 ? slot * 0.5 : 120.0;
    for (size_t i = 0; i < n; i++) {
        const fp_bench_series *s = &series[i];
        double centre = PLOT_LEFT + slot * ((double)i + 0.5);
        text_at(out, centre, bottom + 20, "middle", "", s->name ? s->name : "");
        if (s->n_runs == 0)
            continue;
        fp_bench_range range = fp_bench_range_of(s->msgs_per_sec, s->n_runs);
        double y = bars_y(range.median, top_value);
        fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>\n",
                centre - width / 2, y, width, bottom - y, palette[i % PALETTE_SIZE]);
        double y_min = bars_y(range.min, top_value), y_max = bars_y(range.max, top_value);
        line_at(out, centre, y_min, centre, y_max, tick);
        line_at(out, centre - width / 4, y_min, centre + width / 4, y_min, tick);
        line_at(out, centre - width / 4, y_max, centre + width / 4, y_max, tick);
        snprintf(label, sizeof(label), "%.0f", range.median);
        text_at(out, centre, y_max - 6, "middle", "", label);
    }
    fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                 "fill=\"none\" stroke=\"#000000\" stroke-width=\"1\"/>\n",
            PLOT_LEFT, BARS_TOP, PLOT_WIDTH, BARS_HEIGHT);
    fputs("<text x=\"22.00\" y=\"680.00\" text-anchor=\"middle\" "
          "transform=\"rotate(-90 22.00 680.00)\">msgs/s</text>\n", out);
}

static void write_document(FILE *out, const fp_bench_series *series, size_t n, const fp_bench_svg_options *opt)
{
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
                 "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
            SVG_WIDTH, SVG_HEIGHT, SVG_WIDTH, SVG_HEIGHT);
    const char *title = opt && opt->title ? opt->title : "fastport-bench";
    fputs("<title>", out);
    put_escaped(out, title);
    fputs("</title>\n", out);
    fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", SVG_WIDTH, SVG_HEIGHT);
    text_at(out, SVG_WIDTH / 2.0, 28, "middle", " font-size=\"16\" font-weight=\"bold\"", title);
    draw_cdf(out, series, n, opt && opt->linear_x);
    draw_bars(out, series, n);
    fputs("</svg>\n", out);
}

int fp_bench_svg_write(FILE *out, const fp_bench_series *series, size_t n, const fp_bench_svg_options *opt)
{
    /* Coordinates need '.' whatever locale the program runs in. */
    locale_t c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    locale_t previous = c_numeric ? uselocale(c_numeric) : (locale_t)0;
    write_document(out, series, n, opt);
    if (c_numeric) {
        uselocale(previous);
        freelocale(c_numeric);
    }
    return ferror(out) ? -1 : 0;
}

int fp_bench_svg_write_file(const char *path, const fp_bench_series *series, size_t n,
                            const fp_bench_svg_options *opt)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int rc = fp_bench_svg_write(f, series, n, opt);
    int saved = errno;
    if (fclose(f) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc != 0 && saved == 0)
        saved = EIO;
    errno = saved;
    return rc;
}
