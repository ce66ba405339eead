#include "core/event.h"

const char *err_class_name(err_class c)
{
    static const char *const names[ERR_CLASSES] = {"connect",  "tls",      "timeout", "http_4xx",
                                                   "http_429", "http_5xx", "stream",  "other"};
    return (unsigned)c < ERR_CLASSES ? names[c] : "other";
}

const char *test_kind_name(llm_test_kind k)
{
    static const char *const names[TEST_KINDS] = {"output", "input", "multimodal"};
    return (unsigned)k < TEST_KINDS ? names[k] : "output";
}
