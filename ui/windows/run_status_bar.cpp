#include "ui/windows/run_status_bar.h"

#include <QFileInfo>
#include <QLabel>
#include <QLayout>
#include <QLocale>
#include <QStatusBar>
#include <QStringList>
#include <algorithm>
#include <cmath>

#include "modlab/platform/device.h"
#include "ui/windows/help_dialogs.h"
#include "ui/data/run_data.h"

namespace modlab::ui {

namespace {
QString human(long long n) { return QLocale(QLocale::English).toString(n); }

QString duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const long long s = std::llround(seconds);
  return s >= 3600 ? QString("%1:%2:%3").arg(s / 3600).arg((s / 60) % 60, 2, 10, QChar('0')).arg(s % 60, 2, 10, QChar('0'))
                   : QString("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QChar('0'));
}

}  // namespace

RunStatusBar::RunStatusBar(QStatusBar* bar) : QObject(bar), bar_(bar) {
  // Every item is a permanent widget, so no message is ever drawn over them; hover help and
  // messages go to their own label, which takes the space that is left.
  step_ = new QLabel;
  step_->setObjectName("StepLabel");
  rate_ = new QLabel;
  rate_->setObjectName("RateLabel");
  eta_ = new QLabel;
  eta_->setObjectName("EtaLabel");
  device_ = new QLabel;
  device_->setObjectName("DeviceLabel");
  device_->setToolTip(platformLines().join('\n'));
  source_ = new QLabel;
  families_ = new QLabel;
  families_->setObjectName("FamiliesLabel");
  families_->setTextFormat(Qt::RichText);
  message_ = new QLabel;
  message_->setObjectName("MessageLabel");
  message_->setMinimumWidth(0);
  message_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  for (QLabel* l : {step_, rate_, eta_, families_}) bar_->addPermanentWidget(l);
  bar_->addPermanentWidget(message_, 1);
  for (QLabel* l : {device_, source_}) bar_->addPermanentWidget(l);
  connect(bar_, &QStatusBar::messageChanged, this, [this](const QString& message) {
    message_->setToolTip(message);
    message_->setText(message_->fontMetrics().elidedText(message, Qt::ElideRight, std::max(0, message_->width() - 4)));
  });
}

void RunStatusBar::showSource(const RunData& d) {
  source_->setText(d.source().isEmpty() ? tr("not started")
                   : d.isFollowing()    ? tr("following: %1").arg(QFileInfo(d.source()).fileName())
                   : d.isReplay()       ? tr("replay: %1").arg(QFileInfo(d.source()).fileName())
                                        : tr("recording to %1").arg(QFileInfo(d.source()).fileName()));
  source_->setToolTip(d.source());
}

void RunStatusBar::refit() {
  slack_ = 0;
  fit();
}

void RunStatusBar::showRun(const RunData& d) {
  const Snapshot& s = d.status();
  stepFull_ = tr("step %1 / %2").arg(human(s.step), human(d.config().steps));
  stepShort_ = tr("%1/%2").arg(human(s.step), human(d.config().steps));
  step_->setText(stepFull_);
  const bool running = s.state == SessionState::Running;
  rateFull_ = running ? tr("%1 steps/s").arg(s.stepsPerSecond, 0, 'f', 1) : QString();
  rateShort_ = running ? tr("%1/s").arg(std::lround(s.stepsPerSecond)) : QString();
  rate_->setText(rateFull_);
  const double eta = s.stepsPerSecond > 0 ? static_cast<double>(d.config().steps - s.step) / s.stepsPerSecond : NAN;
  eta_->setText(running ? tr("ETA %1").arg(duration(eta)) : QString::fromStdString(toString(s.state)));
  device_->setText(QString::fromStdString(s.device.empty() ? describeDevice(d.config().device) : s.device));
  // Families that share a state share one entry: "Monolithic, Modular: training".
  std::vector<std::pair<QString, std::vector<std::string>>> groups;
  QStringList tips;
  for (const FamilyStatus& f : s.families) {
    QString state = QString::fromStdString(toString(f.state));
    if (s.state == SessionState::Idle) state = tr("ready");  // nothing started yet
    else if (f.state == FamilyState::Training && s.state == SessionState::Paused) state = tr("paused");
    else if (f.state == FamilyState::Training && s.state != SessionState::Running) state = QString::fromStdString(toString(s.state));
    if (f.state == FamilyState::Diverged) state = tr("diverged (%1)").arg(QString::fromStdString(f.message));
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == state; });
    if (it == groups.end()) groups.push_back({state, {f.variant}});
    else it->second.push_back(f.variant);
    tips << tr("%1: %2, learning rate %3").arg(QString::fromStdString(f.variant), state).arg(f.learningRate);
  }
  QStringList full, compact;
  for (const auto& [state, families] : groups) {
    QStringList names, squares;
    for (const std::string& f : families) {
      const QString square = QString("<span style='color:%1'>&#9632;</span>").arg(d.textColor(f).name());
      names << square + "&nbsp;" + QString::fromStdString(f).toHtmlEscaped();
      squares << square;
    }
    full << names.join(", ") + ": " + state.toHtmlEscaped();
    compact << squares.join("") + "&nbsp;" + state.toHtmlEscaped();
  }
  familiesFull_ = full.join(" &nbsp;|&nbsp; ");
  familiesCompact_ = compact.join(" &nbsp; ");
  families_->setToolTip(tips.join('\n'));
  fit();
}

void RunStatusBar::fit() {
  // What gives way first when the bar is narrow (small screens, large scales): the source,
  // the device, the families' names (their colours and states stay), the families (their
  // states stay in the step counter's tooltip), the long forms ("step 1,200 / 3,000" becomes
  // "1,200/3,000", "412.5 steps/s" becomes "412/s"); the rate and the ETA only after that.
  QStatusBar* bar = bar_;
  // The counters apart by a space's width of their own font on each side (at every scale).
  const int gap = step_->fontMetrics().horizontalAdvance(QLatin1Char(' '));
  for (QLabel* l : {step_, rate_, eta_, families_}) l->setContentsMargins(gap, 0, gap, 0);
  // What the bar's own spacing took beyond our estimate, learnt from the layout of the last
  // fit: the widths it gave against those the fit asked for (the largest shortfall seen since
  // the last resize, never a sum over updates).
  int short_ = 0;
  for (const auto& [label, fitted] : fitted_)
    if (label->isVisible() && label->width() > 0 && label->width() < fitted.second) short_ += fitted.second - label->width();
  slack_ = std::max(slack_, short_);
  const int available = bar->width() - 40 - slack_;
  families_->setText(familiesFull_);
  if (!stepFull_.isEmpty()) step_->setText(stepFull_);
  rate_->setText(rateFull_);
  step_->setToolTip(QString());
  for (QLabel* l : {source_, device_, rate_, eta_}) l->setVisible(!l->text().isEmpty());
  families_->setVisible(!familiesFull_.isEmpty());
  // A label's width from its text in its current font (its size hint can be stale after a
  // scale change); rich text (the families) by its size hint.
  auto widthOf = [](QLabel* l) {
    l->ensurePolished();
    if (l->textFormat() == Qt::RichText) return l->sizeHint().width();
    const QMargins m = l->contentsMargins();
    return std::max(l->fontMetrics().horizontalAdvance(l->text()) + m.left() + m.right() + 2, l->sizeHint().width());
  };
  auto used = [&] {
    int w = 0;
    for (QLabel* l : {step_, rate_, eta_, families_, device_, source_})
      if (!l->isHidden()) w += widthOf(l) + 16;  // the bar's spacing and item frames
    return w;
  };
  for (QLabel* l : {source_, device_}) {
    if (used() <= available) break;
    l->hide();
  }
  if (used() > available) families_->setText(familiesCompact_);
  if (used() > available) {
    families_->hide();
    step_->setToolTip(families_->toolTip());
  }
  if (used() > available && !stepShort_.isEmpty()) step_->setText(stepShort_);
  if (used() > available) rate_->setText(rateShort_);
  if (used() > available) rate_->hide();
  if (used() > available) eta_->hide();
  // The counters are never squeezed by the bar's layout: the families' label gives way.
  for (QLabel* l : {step_, rate_, eta_}) l->setMinimumWidth(l->isHidden() ? 0 : widthOf(l));
  // Lay the bar out now: a label that grew is widened at once, its neighbours only moved by the
  // next layout pass, and until then it would lie under them.
  if (QLayout* layout = bar->layout()) layout->activate();
  fitted_.clear();
  for (QLabel* l : {step_, rate_, eta_, families_})
    if (!l->isHidden()) fitted_[l] = {l->text(), widthOf(l)};
}

}  // namespace modlab::ui
