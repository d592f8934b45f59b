#include "commands.h"
namespace packjit::cli { void addAotCommand(CLI::App &) {} }
