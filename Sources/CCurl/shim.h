// Typed, non-variadic wrappers over libcurl's variadic setopt/getinfo calls.
//
// Swift cannot call C variadic functions, and passing the wrong integer width
// to curl_easy_setopt is undefined behaviour (numeric options take `long`,
// size options `curl_off_t`). One wrapper per argument type keeps every call
// site typed. Nothing else lives here: all logic is in Swift.
#ifndef BUCKETWATCH_CCURL_SHIM_H
#define BUCKETWATCH_CCURL_SHIM_H

#include <curl/curl.h>

typedef size_t (*bw_curl_data_callback)(char *data, size_t size, size_t nmemb, void *userdata);
typedef int (*bw_curl_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode bw_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode bw_curl_easy_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode bw_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode bw_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode bw_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode bw_curl_easy_setopt_data_callback(CURL *handle, CURLoption option, bw_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode bw_curl_easy_setopt_xferinfo(CURL *handle, bw_curl_xferinfo_callback value) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, value);
}

static inline CURLcode bw_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode bw_curl_easy_getinfo_offset(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
