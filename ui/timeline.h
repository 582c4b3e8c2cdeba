// The timeline under the heatmaps: scrub to any evaluation step of the run (live or
// replayed), or play the heatmaps and metrics through training at a chosen speed.
#pragma once

#include <QTimer>
#include <QWidget>

class QComboBox;
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

Q_SIGNALS:
  void positionChanged(int index);  // the evaluation to show

private:
  void updateLabel();
  const RunData* data_ = nullptr;
  QSlider* slider_;
  QLabel* label_;
  QToolButton* play_;
  QComboBox* speed_;
  QTimer timer_;
  bool followLatest_ = true;
};

}  // namespace modlab::ui
