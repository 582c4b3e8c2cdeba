#include "ui/timeline.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QToolButton>

#include "ui/run_data.h"

namespace modlab::ui {

Timeline::Timeline(QWidget* parent) : QWidget(parent) {
  play_ = new QToolButton;
  play_->setText(tr("Play"));
  play_->setCheckable(true);
  play_->setToolTip(tr("Animate the heatmaps and metrics through training (P)"));
  speed_ = new QComboBox;
  for (int fps : {1, 2, 5, 10, 20}) speed_->addItem(tr("%1 steps/s").arg(fps), fps);
  speed_->setCurrentIndex(2);
  speed_->setToolTip(tr("Evaluations shown per second while playing"));
  slider_ = new QSlider(Qt::Horizontal);
  slider_->setRange(0, 0);
  slider_->setPageStep(1);
  slider_->setToolTip(tr("Scrub through the evaluations of the run; the right end follows the latest"));
  label_ = new QLabel;
  label_->setMinimumWidth(150);
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(6, 2, 6, 2);
  layout->addWidget(new QLabel(tr("Timeline")));
  layout->addWidget(play_);
  layout->addWidget(speed_);
  layout->addWidget(slider_, 1);
  layout->addWidget(label_);

  connect(slider_, &QSlider::valueChanged, this, [this](int v) {
    followLatest_ = v == slider_->maximum();
    updateLabel();
    Q_EMIT positionChanged(v);
  });
  connect(play_, &QToolButton::toggled, this, &Timeline::setPlaying);
  connect(speed_, &QComboBox::currentIndexChanged, this, [this] {
    timer_.setInterval(1000 / speed_->currentData().toInt());
  });
  timer_.setInterval(1000 / speed_->currentData().toInt());
  connect(&timer_, &QTimer::timeout, this, [this] {
    if (slider_->value() >= slider_->maximum()) {
      setPlaying(false);
      return;
    }
    slider_->setValue(slider_->value() + 1);
  });
}

void Timeline::setData(const RunData* data) {
  data_ = data;
  followLatest_ = true;
  refresh();
}

void Timeline::refresh() {
  const int count = data_ ? static_cast<int>(data_->evaluations().size()) : 0;
  const bool wasFollowing = followLatest_;
  slider_->blockSignals(true);
  slider_->setRange(0, std::max(0, count - 1));
  if (wasFollowing) slider_->setValue(slider_->maximum());
  slider_->blockSignals(false);
  slider_->setEnabled(count > 1);
  play_->setEnabled(count > 1);
  updateLabel();
}

int Timeline::position() const { return followLatest_ ? -1 : slider_->value(); }

void Timeline::setPosition(int index) { slider_->setValue(index); }

void Timeline::setPlaying(bool play) {
  play_->blockSignals(true);
  play_->setChecked(play);
  play_->setText(play ? tr("Pause") : tr("Play"));
  play_->blockSignals(false);
  if (!play) {
    timer_.stop();
    return;
  }
  if (slider_->value() >= slider_->maximum()) slider_->setValue(0);  // replay from the start
  timer_.start();
}

void Timeline::updateLabel() {
  if (!data_ || data_->evaluations().empty()) {
    label_->setText(tr("no evaluation yet"));
    return;
  }
  const int i = std::clamp(slider_->value(), 0, static_cast<int>(data_->evaluations().size()) - 1);
  label_->setText(tr("step %1 (%2 of %3)%4")
                      .arg(data_->evaluations()[i].step)
                      .arg(i + 1)
                      .arg(data_->evaluations().size())
                      .arg(followLatest_ ? tr(", latest") : QString()));
}

}  // namespace modlab::ui
