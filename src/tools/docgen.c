/* llmload_docgen: writes the man page, the bash or the zsh completion (config/docgen) to
 * FILE, or stdout; run by the build (CMakeLists.txt) to make what `make install` installs. */
#include <stdio.h>
#include <string.h>

#include "config/docgen.h"

int main(int argc, char **argv)
{
    const char *what = argc >= 2 ? argv[1] : "";
    void (*gen)(FILE *) = strcmp(what, "man") == 0    ? docgen_man
                          : strcmp(what, "bash") == 0 ? docgen_bash
                          : strcmp(what, "zsh") == 0  ? docgen_zsh
                                                      : NULL;
    if (!gen || argc > 3) {
        fprintf(stderr, "usage: llmload_docgen man|bash|zsh [FILE]\n");
        return 2;
    }
    FILE *f = argc == 3 ? fopen(argv[2], "w") : stdout;
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    gen(f);
    int bad = ferror(f);
    if (f != stdout)
        bad |= fclose(f);
    else
        bad |= fflush(f);
    return bad ? 1 : 0;
}
