// The main window's status bar: the step counter, the rate, the ETA, each family's state, the
// device and where the run is recorded, all permanent (a message never covers them), fitted to
// the bar's width: the least useful give way first, the step counter always stays.
#pragma once

#include <QObject>
#include <QString>
#include <map>

class QLabel;
class QStatusBar;

namespace modlab::ui {

class RunData;

// It fills the window's own QStatusBar (a helper that owns the labels, not a widget of its own).
class RunStatusBar : public QObject {
  Q_OBJECT
public:
  explicit RunStatusBar(QStatusBar* bar);
  void showRun(const RunData& data);  // the counters and the families' states, then fit()
  void showSource(const RunData& data);  // "recording to ...", "replay: ...", "not started"
  // Lower-priority labels give way; refit() also forgets what the bar's spacing took before
  // (after a resize or a scale change).
  void fit();
  void refit();
  void forgetSlack() { slack_ = 0; }  // before a change of scale, fitted once it is laid out

  QLabel* stepLabel() const { return step_; }
  QLabel* rateLabel() const { return rate_; }
  QLabel* etaLabel() const { return eta_; }
  QLabel* familiesLabel() const { return families_; }
  QLabel* messageLabel() const { return message_; }

private:
  QLabel *step_, *rate_, *eta_, *device_, *source_, *families_, *message_;
  QString familiesFull_, familiesCompact_;
  QString stepFull_, stepShort_, rateFull_, rateShort_;  // the short forms where the bar is narrow
  std::map<QLabel*, std::pair<QString, int>> fitted_;   // text and width asked for at the last fit
  int slack_ = 0;
  QStatusBar* bar_;
};

}  // namespace modlab::ui
