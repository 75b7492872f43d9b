// target.cc - a C++ program for tests/shim/attach: "a" makes 100 strings of 200
// characters (operator new, through libstdc++'s GOT), "q" leaves.
#include <iostream>
#include <string>
#include <unistd.h>
#include <vector>

static std::vector<std::string *> kept;

int main()
{
    std::string line;
    std::cout << "ready " << getpid() << std::endl;
    while (std::getline(std::cin, line)) {
        if (line == "a") {
            for (int i = 0; i < 100; i++)
                kept.push_back(new std::string(200, 'x'));
            std::cout << "strings " << kept.size() << std::endl;
        } else if (line == "q") {
            std::cout << "bye" << std::endl;
            return 0;
        }
    }
    return 0;
}
