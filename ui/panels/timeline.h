// The timeline under the heatmaps: scrub to any evaluation step of the run (live or
// replayed), or play the heatmaps and metrics through training at a chosen speed.
#pragma once

#include <QTimer>
#include <QWidget>
#include <cstdint>

class QComboBox;
class QHBoxLayout;
class QLabel;
class QSlider;
class QToolButton;

namespace modlab::ui {

class RunData;

class Timeline : public QWidget {
  Q_OBJECT
public:
  explicit Timeline(QWidget* parent = nullptr);
  void setData(const RunData* data);
  void refresh();  // the number of evaluations changed
  // The evaluation shown; -1 means "the latest" (following live).
  int position() const;
  void setPosition(int index);
  bool isPlaying() const { return timer_.isActive(); }
  void setPlaying(bool play);
  bool followsLatest() const { return followLatest_; }
  // The evaluation at or before `step` (click-to-jump from the charts); -1 when none.
  int indexAtStep(double step) const;
  void jumpToStep(double step);
  std::int64_t shownStep() const;  // the step of the evaluation shown, -1 when none
  QSlider* slider() const { return slider_; }
  QToolButton* playButton() const { return play_; }
  QLabel* label() const { return label_; }

Q_SIGNALS:
  void positionChanged(int index);  // the evaluation to show

public:
  QSize minimumSizeHint() const override;

protected:
  void changeEvent(QEvent* e) override;
  void resizeEvent(QResizeEvent* e) override;

private:
  void updateLabel();
  void fixWidths();  // Play/Pause and the label keep one width: the slider never jumps
  void placeSlider();
  const RunData* data_ = nullptr;
  QSlider* slider_;
  QHBoxLayout *row_, *sliderRow_;
  QLabel* label_;
  QToolButton* play_;
  QComboBox* speed_;
  QTimer timer_;
  bool followLatest_ = true;
};

}  // namespace modlab::ui
