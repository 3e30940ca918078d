// The public API of config's loaders in one include: architectures (architecture_loader.hpp),
// sweeps (sweep_loader.hpp) and the architecture search path (search_path.hpp). The formats are
// documented for users in sweeps/README.md and experiments/architectures/README.md.
#pragma once

#include "config/architecture_loader.hpp"
#include "config/search_path.hpp"
#include "config/sweep_loader.hpp"
