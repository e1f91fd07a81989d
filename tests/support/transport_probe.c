/* fp-transport-probe DIR NAME: asks <DIR>/<NAME>.so whether it can run on
 * this machine. Exit 0: yes; 77: its probe says no (reason on stdout);
 * 1: it could not be loaded; 2: bad usage. */
#include <stdio.h>

#include "transport_check.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fp-transport-probe DIR NAME\n");
        return 2;
    }
    char why[512] = "";
    int usable = e2e_transport_probe(argv[1], argv[2], why, sizeof(why));
    if (usable > 0) return 0;
    if (usable == 0) {
        printf("%s\n", why);
        return 77;
    }
    fprintf(stderr, "fp-transport-probe: %s\n", why);
    return 1;
}
