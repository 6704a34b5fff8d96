#include <iostream>
#include "greeting.h"

int main() {
  std::cout << Greeting("rex") << std::endl;
  return 0;
}
