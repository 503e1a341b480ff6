#include "coordinator/core/annotations.h"

#include <cstdlib>

namespace gauntlet::core {

StatusOr<v1::Annotation> AnnotationManager::Annotate(const v1::Annotation& annotation) {
  if (annotation.scope() != "sweep" && annotation.scope() != "model" && annotation.scope() != "job") {
    return Err(Status::InvalidArgument("annotate: scope '" + annotation.scope() + "' must be sweep, model or job"));
  }
  if (annotation.target().empty()) return Err(Status::InvalidArgument("annotate: name the sweep, model or job"));
  if (!annotation.url().starts_with("http://") && !annotation.url().starts_with("https://")) {
    return Err(Status::InvalidArgument("annotate: url '" + annotation.url() + "' must start with http:// or https://"));
  }
  if (annotation.scope() == "sweep") {
    GAUNTLET_ASSIGN_OR_RETURN(auto sweep, farm_.store.GetSweep(std::atoll(annotation.target().c_str()), false));
    if (!sweep) return Err(Status::NotFound("annotate: no sweep " + annotation.target()));
  }
  if (annotation.scope() == "job") {
    GAUNTLET_ASSIGN_OR_RETURN(auto state, farm_.store.JobStateOf(std::atoll(annotation.target().c_str())));
    if (!state) return Err(Status::NotFound("annotate: no job " + annotation.target()));
  }
  v1::Annotation stored;
  Status status = batch_.Run([&]() -> Status {
    GAUNTLET_ASSIGN_OR_RETURN(stored, farm_.store.AddAnnotation(annotation, farm_.clock.NowMs()));
    return farm_.store.AddEvent(farm_.clock.NowMs(), 0, 0, 0, "annotated",
                           annotation.scope() + " " + annotation.target() + ": " + annotation.url());
  });
  if (!status.ok()) return Err(status);
  GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  return stored;
}

StatusOr<std::vector<v1::Annotation>> AnnotationManager::Annotations(const std::string& scope, const std::string& target) {
  return farm_.store.Annotations(scope, target);
}

}  // namespace gauntlet::core
