// Links people attach to a sweep, a model or a job (a bug, a wiki page),
// shown beside them on the board.
#pragma once

#include <string>
#include <vector>

#include "coordinator/core/batch.h"
#include "coordinator/core/farm.h"
#include "gauntlet/v1/control.pb.h"

namespace gauntlet::core {

class AnnotationManager {
 public:
  AnnotationManager(Farm& farm, Batch& batch) : farm_(farm), batch_(batch) {}

  // Refuses an unknown scope, a missing target or a URL that is not http(s).
  StatusOr<v1::Annotation> Annotate(const v1::Annotation& annotation);
  StatusOr<std::vector<v1::Annotation>> Annotations(const std::string& scope, const std::string& target);

 private:
  Farm& farm_;
  Batch& batch_;
};

}  // namespace gauntlet::core
