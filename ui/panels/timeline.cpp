#include "ui/panels/timeline.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QVBoxLayout>
#include <QResizeEvent>
#include <QLabel>
#include <QFontMetrics>
#include <QSlider>
#include <QToolButton>
#include <QMouseEvent>
#include <QStyle>
#include <QStyleOptionSlider>
#include <QEvent>
#include <cmath>

#include "ui/data/run_data.h"

namespace modlab::ui {

namespace {
// A click on the track jumps there (the default moves one page towards the click).
class JumpSlider : public QSlider {
public:
  using QSlider::QSlider;

protected:
  void mousePressEvent(QMouseEvent* e) override {
    if (e->button() == Qt::LeftButton && maximum() > minimum()) {
      QStyleOptionSlider option;
      initStyleOption(&option);
      const QRect handle = style()->subControlRect(QStyle::CC_Slider, &option, QStyle::SC_SliderHandle, this);
      if (!handle.contains(e->position().toPoint())) {
        const QRect groove = style()->subControlRect(QStyle::CC_Slider, &option, QStyle::SC_SliderGroove, this);
        const int span = groove.width() - handle.width();
        const int x = static_cast<int>(e->position().x()) - groove.x() - handle.width() / 2;
        setValue(QStyle::sliderValueFromPosition(minimum(), maximum(), x, std::max(1, span), option.upsideDown));
      }
    }
    QSlider::mousePressEvent(e);
  }
};
}  // namespace

Timeline::Timeline(QWidget* parent) : QWidget(parent) {
  play_ = new QToolButton;
  play_->setText(tr("Play"));
  play_->setCheckable(true);
  play_->setToolTip(tr("Animate the heatmaps and metrics through training (P)"));
  speed_ = new QComboBox;
  for (int fps : {1, 2, 5, 10, 20}) speed_->addItem(tr("%1 evaluations/s").arg(fps), fps);
  speed_->setCurrentIndex(2);
  speed_->setToolTip(tr("Evaluations shown per second while playing"));
  slider_ = new JumpSlider(Qt::Horizontal);
  slider_->setRange(0, 0);
  slider_->setPageStep(1);
  slider_->setToolTip(tr("Scrub through the evaluations of the run; the right end follows the latest"));
  label_ = new QLabel;
  // One row when wide; the slider on a row of its own when narrow.
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(6, 2, 6, 2);
  layout->setSpacing(2);
  auto* row = new QHBoxLayout;
  row->addWidget(new QLabel(tr("Timeline")));
  row->addWidget(play_);
  row->addWidget(speed_);
  row->addWidget(slider_, 1);
  row->addWidget(label_);
  row->addStretch(0);
  layout->addLayout(row);
  sliderRow_ = new QHBoxLayout;
  layout->addLayout(sliderRow_);
  row_ = row;

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
  fixWidths();
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

void Timeline::fixWidths() {
  // The widest text each can show, in the current font.
  const QFontMetrics fm(play_->font());
  const int text = std::max(fm.horizontalAdvance(tr("Play")), fm.horizontalAdvance(tr("Pause")));
  play_->setFixedWidth(text + fm.averageCharWidth() * 4);
  const std::int64_t steps = data_ ? std::max<std::int64_t>(data_->config().steps, data_->step()) : 100000;
  const int count = data_ ? std::max<int>(static_cast<int>(data_->evaluations().size()), 1) : 1;
  const QString widest = tr("step %1 (%2 of %3)%4")
                             .arg(QString(QString::number(steps).size() + 1, QChar('8')))
                             .arg(QString(QString::number(std::max(count, 99)).size(), QChar('8')))
                             .arg(QString(QString::number(std::max(count, 99)).size(), QChar('8')))
                             .arg(tr(", latest"));
  label_->setFixedWidth(label_->fontMetrics().horizontalAdvance(widest) + 8);
}

QSize Timeline::minimumSizeHint() const {
  // As narrow as the slider on a row of its own allows (where it goes when narrow): the
  // minimum does not depend on where the slider happens to be.
  QSize s = QWidget::minimumSizeHint();
  if (sliderRow_->count() == 0) {
    s.setWidth(s.width() - slider_->minimumSizeHint().width() - row_->spacing());
    s.setHeight(s.height() + slider_->minimumSizeHint().height() + layout()->spacing());
  }
  return s;
}

void Timeline::resizeEvent(QResizeEvent* e) {
  QWidget::resizeEvent(e);
  placeSlider();
}

// The slider beside the controls where there is room, on a row of its own where not (the
// decision changes with the width and with the fonts).
void Timeline::placeSlider() {
  const int fixed = play_->width() + speed_->sizeHint().width() + label_->width() + fontMetrics().horizontalAdvance(tr("Timeline")) + 60;
  const bool narrow = width() < fixed + fontMetrics().height() * 6;
  if (narrow == (sliderRow_->count() > 0)) return;
  if (narrow) sliderRow_->addWidget(slider_);
  else row_->insertWidget(3, slider_, 1);
}

void Timeline::changeEvent(QEvent* e) {
  if (e->type() == QEvent::FontChange) {
    fixWidths();
    placeSlider();
    // Hidden behind a tab, the rows' cached minimum would stay the old font's.
    row_->invalidate();
    sliderRow_->invalidate();
    layout()->invalidate();
  }
  QWidget::changeEvent(e);
}

int Timeline::indexAtStep(double step) const {
  if (!data_) return -1;
  int index = -1;
  const auto& evaluations = data_->evaluations();
  for (std::size_t i = 0; i < evaluations.size(); ++i) {
    // The nearest evaluation to the clicked step.
    if (index < 0 || std::abs(static_cast<double>(evaluations[i].step) - step) <
                         std::abs(static_cast<double>(evaluations[static_cast<std::size_t>(index)].step) - step))
      index = static_cast<int>(i);
  }
  return index;
}

void Timeline::jumpToStep(double step) {
  const int index = indexAtStep(step);
  if (index < 0) return;
  setPlaying(false);
  if (index == slider_->value()) {  // already there: still leave "latest" when asked for it
    followLatest_ = index == slider_->maximum() && followLatest_;
    updateLabel();
    Q_EMIT positionChanged(index);
    return;
  }
  slider_->setValue(index);
}

std::int64_t Timeline::shownStep() const {
  if (!data_ || data_->evaluations().empty()) return -1;
  const int i = std::clamp(slider_->value(), 0, static_cast<int>(data_->evaluations().size()) - 1);
  return data_->evaluations()[static_cast<std::size_t>(i)].step;
}

void Timeline::refresh() {
  fixWidths();
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
