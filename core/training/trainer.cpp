#include "modlab/training/trainer.h"

#include <optional>

#include <torch/torch.h>

namespace modlab {

torch::Tensor taskLoss(TaskKind kind, const torch::Tensor& prediction, const torch::Tensor& labels) {
  if (kind == TaskKind::Classification)
    return torch::binary_cross_entropy_with_logits(prediction, labels);
  return torch::l1_loss(prediction, labels);
}

double classificationError(const torch::Tensor& logits, const torch::Tensor& labels) {
  return 100.0 - 100.0 * logits.ge(0).to(labels.scalar_type()).eq(labels).to(torch::kDouble).mean().item<double>();
}

Trainer::Trainer(RuleModel model, OptimiserConfig config) : model_(std::move(model)), config_(config) {
  if (!(config.learningRate > 0.0))
    throw InvalidArgument("learning rate", std::to_string(config.learningRate), "a positive number");
  optimiser_ = std::make_unique<FlatAdam>(model_->parameters(), config.learningRate);
}

void Trainer::setLearningRate(double lr) {
  if (!(lr > 0.0)) throw InvalidArgument("learning rate", std::to_string(lr), "a positive number");
  optimiser_->setLearningRate(lr);
}

double Trainer::step(const Batch& batch) {
  if (!model_->is_training()) model_->train();
  optimiser_->zeroGrad();
  model_->setRoutingStep(optimiser_->steps());
  const ModelOutput out = model_->forward(batch.x);
  const torch::Tensor task = taskLoss(model_->spec().kind, out.y, batch.y);
  torch::Tensor loss = task;
  last_ = StepLosses{};
  const RoutingOptions& routing = model_->routing();
  if (!routing.isPaper() && out.routerProbs.defined()) {
    // Recorded always, differentiated only when a regulariser is in the loss.
    std::optional<torch::NoGradGuard> recordOnly;
    if (!routing.hasRegulariser()) recordOnly.emplace();
    const RoutingTerms terms = routingTerms(out.routerProbs);
    if (routing.hasRegulariser()) loss = task + routingPenalty(terms, routing);
    last_.hasRoutingTerms = true;
    last_.balance = terms.balance.item<double>();
    last_.sampleEntropy = terms.sampleEntropy.item<double>();
    last_.batchEntropy = terms.batchEntropy.item<double>();
  }
  loss.backward();
  optimiser_->step(config_.clipNorm);
  last_.total = loss.item<double>();
  last_.task = loss.is_same(task) ? last_.total : task.item<double>();
  return last_.total;
}

Evaluation Trainer::evaluate(const RuleTask& task, const SampleRequest& request, int batches,
                             torch::Generator& gen, torch::Device device) {
  torch::NoGradGuard noGrad;
  model_->eval();
  Evaluation e;
  for (int i = 0; i < batches; ++i) {
    const Batch b = task.sample(request, gen, device);
    const torch::Tensor y = model_->forward(b.x).y;
    e.loss += taskLoss(model_->spec().kind, y, b.y).item<double>();
    if (model_->spec().kind == TaskKind::Classification)
      e.error += classificationError(y, b.y);
  }
  model_->train();
  e.loss /= batches;
  e.error = model_->spec().kind == TaskKind::Classification ? e.error / batches : e.loss;
  return e;
}

}  // namespace modlab
