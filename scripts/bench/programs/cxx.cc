/*
 * cxx.cc - benchmark workload: C++ containers (issue 4, row 6).
 *
 * A std::map<std::string, std::vector<int>> is filled, looked up, grown and
 * trimmed with fixed-seed keys; keys are long enough to leave the small-string
 * buffer, so every node, string and vector growth is a real operator new that
 * reaches malloc through libstdc++.
 *
 * Usage: cxx ROUNDS KEYS      prints "checksum cxx <hex>", exits 0.
 */
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

static uint64_t cxx_rng = 0x94D049BB133111EBull;   // xorshift64 state

static uint64_t cxx_next()
{
    uint64_t x = cxx_rng;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return cxx_rng = x;
}

// A key of 20..51 characters: always past libstdc++'s 15-byte inline buffer.
static std::string cxx_key(uint64_t r, long keys)
{
    uint64_t id = r % (uint64_t)keys;
    std::string k = "key-" + std::to_string(id);
    k.append(16 + id % 32, (char)('a' + id % 26));
    return k;
}

int main(int argc, char **argv)
{
    if (argc != 3) { std::fprintf(stderr, "usage: cxx ROUNDS KEYS\n"); return 2; }
    long rounds = std::atol(argv[1]), keys = std::atol(argv[2]);
    if (rounds < 1 || keys < 1) { std::fprintf(stderr, "cxx: bad sizes\n"); return 2; }
    std::map<std::string, std::vector<int>> m;
    uint64_t sum = 0;
    for (long i = 0; i < rounds; i++) {
        uint64_t r = cxx_next();
        std::string k = cxx_key(r, keys);
        switch (r % 8) {
        case 0: case 1: {                       // drop a key and its vector
            auto it = m.find(k);
            if (it != m.end()) { sum += it->second.size(); m.erase(it); }
            break;
        }
        default: {                              // grow a key's vector
            std::vector<int> &v = m[k];
            int n = 1 + (int)((r >> 16) % 24);
            for (int j = 0; j < n; j++)
                v.push_back((int)(r >> j));
            if (v.size() > 256) { std::vector<int>(v.begin(), v.begin() + 64).swap(v); }
            sum = sum * 31 + v.size();
        }
        }
    }
    for (auto &kv : m)
        sum = sum * 31 + kv.first.size() + kv.second.size();
    std::printf("checksum cxx %016llx %zu\n", (unsigned long long)sum, m.size());
    return 0;
}
