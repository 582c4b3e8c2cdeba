#include "ui/data/run_comparison.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cmath>
#include <map>
#include <set>

#include "ui/data/run_data.h"

namespace modlab::ui {

namespace {
// Runs that differ only in these are one group (seeds) or the same experiment (names, resources).
const QStringList kIgnored{"name", "description", "model_seed", "data_seed", "device", "threads"};
const QStringList kSeeds{"data_seed", "model_seed"};

QJsonObject asJson(const ExperimentConfig& c) {
  return QJsonDocument::fromJson(QByteArray::fromStdString(toJson(c))).object();
}

QString valueText(const QJsonValue& v) {
  if (v.isArray()) {
    QStringList parts;
    for (const QJsonValue& x : v.toArray()) parts << valueText(x);
    return parts.isEmpty() ? QStringLiteral("none") : parts.join(",");
  }
  if (v.isObject()) return v.toObject().value("name").toString();  // a variant: its name
  if (v.isDouble()) return QString::number(v.toDouble(), 'g', 6);
  return v.toVariant().toString();
}

// A value short enough for a key entry: a list of more than two as its first two and a count.
QString shortValue(const QJsonValue& v) {
  if (v.isArray() && v.toArray().size() > 2) {
    const QJsonArray a = v.toArray();
    return QString("%1, %2 +%3").arg(valueText(a[0]), valueText(a[1])).arg(a.size() - 2);
  }
  QString text = valueText(v);
  return text.size() > 24 ? text.left(22) + QStringLiteral("..") : text;
}

// The config with the seed-like keys removed: runs with the same key are one group.
QString groupKey(const ExperimentConfig& c) {
  QJsonObject o = asJson(c);
  for (const QString& k : kIgnored) o.remove(k);
  return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}
}  // namespace

QStringList differingKeys(const std::vector<ExperimentConfig>& configs) {
  QStringList keys;
  if (configs.size() < 2) return keys;
  const QJsonObject first = asJson(configs[0]);
  for (const QString& key : first.keys()) {
    if (kIgnored.contains(key)) continue;
    for (std::size_t i = 1; i < configs.size(); ++i)
      if (asJson(configs[i]).value(key) != first.value(key)) {
        keys << key;
        break;
      }
  }
  return keys;
}

QStringList differingSeedKeys(const std::vector<ExperimentConfig>& configs) {
  QStringList keys;
  if (configs.size() < 2) return keys;
  const QJsonObject first = asJson(configs[0]);
  for (const QString& key : kSeeds)
    for (std::size_t i = 1; i < configs.size(); ++i)
      if (asJson(configs[i]).value(key) != first.value(key)) {
        keys << key;
        break;
      }
  return keys;
}

bool isMetric(CompareQuantity quantity) { return static_cast<int>(quantity) >= static_cast<int>(CompareQuantity::CollapseAvg); }

QVector<QPointF> runCurve(const RunRecord& run, const std::string& variant, CompareQuantity quantity, double smoothing) {
  QVector<QPointF> points;
  if (quantity == CompareQuantity::TrainLoss) {
    for (const TrainPoint& p : run.train)
      if (p.variant == variant && std::isfinite(p.loss)) points.push_back(QPointF(static_cast<double>(p.step), p.loss));
    return ema(points, smoothing);
  }
  for (const EvaluationSnapshot& e : run.evaluations)
    for (const FamilyEvaluation& f : e.families) {
      if (f.variant != variant) continue;
      if (isMetric(quantity) && !f.hasMetrics) continue;
      double v = 0.0;
      switch (quantity) {
        case CompareQuantity::CollapseAvg: v = f.metrics.collapseAvg; break;
        case CompareQuantity::CollapseWorst: v = f.metrics.collapseWorst; break;
        case CompareQuantity::Alignment: v = f.metrics.alignment; break;
        case CompareQuantity::Adaptation: v = f.metrics.adaptation; break;
        case CompareQuantity::InverseMI: v = f.metrics.inverseMutualInformation; break;
        case CompareQuantity::IdLoss: v = f.id.loss; break;
        case CompareQuantity::OodLoss: v = f.ood.loss; break;
        case CompareQuantity::IdError: v = f.id.error; break;
        case CompareQuantity::OodError: v = f.ood.error; break;
        default: break;
      }
      if (std::isfinite(v)) points.push_back(QPointF(static_cast<double>(e.step), v));
    }
  return points;
}

ComparedGroup meanBand(const std::vector<QVector<QPointF>>& curves) {
  ComparedGroup g;
  g.seeds = static_cast<int>(curves.size());
  if (curves.empty()) return g;
  std::map<double, std::vector<double>> byStep;
  for (const auto& curve : curves)
    for (const QPointF& p : curve) byStep[p.x()].push_back(p.y());
  for (const auto& [x, ys] : byStep) {
    if (ys.size() != curves.size()) continue;  // only the steps every run has
    const double n = static_cast<double>(ys.size());
    double mean = 0.0;
    for (double y : ys) mean += y;
    mean /= n;
    double var = 0.0;
    for (double y : ys) var += (y - mean) * (y - mean);
    const double sd = ys.size() > 1 ? std::sqrt(var / (n - 1.0)) : 0.0;
    g.mean.push_back(QPointF(x, mean));
    g.lower.push_back(QPointF(x, mean - sd));
    g.upper.push_back(QPointF(x, mean + sd));
  }
  return g;
}

std::vector<ComparedGroup> compareRuns(const std::vector<RunRecord>& runs, const QStringList& sources,
                                       const std::string& variant, CompareQuantity quantity, double smoothing) {
  std::vector<ExperimentConfig> configs;
  for (const RunRecord& r : runs) configs.push_back(r.config);
  const QStringList differing = differingKeys(configs);
  std::map<QString, std::vector<std::size_t>> groups;  // ordered by first appearance below
  std::vector<QString> order;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const QString key = groupKey(runs[i].config);
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(i);
  }
  std::vector<ComparedGroup> out;
  for (const QString& key : order) {
    std::vector<QVector<QPointF>> curves;
    QStringList groupSources;
    for (std::size_t i : groups[key]) {
      curves.push_back(runCurve(runs[i], variant, quantity, smoothing));
      if (i < static_cast<std::size_t>(sources.size())) groupSources << sources[static_cast<int>(i)];
    }
    ComparedGroup g = meanBand(curves);
    g.sources = groupSources;
    const QJsonObject config = asJson(runs[groups[key].front()].config);
    QStringList parts, full;
    for (const QString& k : differing) {
      const QString name = QString(k).replace('_', ' ');
      parts << QString("%1 %2").arg(name, shortValue(config.value(k)));
      full << QString("%1 %2").arg(name, valueText(config.value(k)));
    }
    // At most three differences in the key; all of them in its tooltip.
    if (parts.size() > 3) parts = parts.mid(0, 2) << QObject::tr("%1 more").arg(parts.size() - 2);
    g.label = parts.isEmpty() ? QString::fromStdString(runs[groups[key].front()].config.name) : parts.join(", ");
    g.detail = full.isEmpty() ? g.label : full.join("\n");
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace modlab::ui
