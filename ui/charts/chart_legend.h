// A chart key that never elides: entries (a colour square or a line sample in the
// series' pen style, then the full text) flow left to right and wrap onto further rows.
// Clicking an entry toggles it (the owner hides or shows the series it stands for);
// hidden entries are drawn faded and struck through. It sits inside each figure, so
// every export of the figure carries the key.
#pragma once

#include <QColor>
#include <QWidget>
#include <vector>

namespace modlab::ui {

class ChartLegend : public QWidget {
  Q_OBJECT
public:
  enum class Marker { Square, Line, LineWithDots, Band };
  struct Entry {
    QString text;
    QColor color;
    Marker marker = Marker::Square;
    Qt::PenStyle style = Qt::SolidLine;
    bool toggles = true;  // false: a key entry that explains, nothing to hide
    QString toolTip;
    QString compact;  // a shorter text, used when the full texts would take more than two rows
  };
  explicit ChartLegend(QWidget* parent = nullptr);
  void clear();
  int addEntry(const Entry& entry);
  int count() const { return static_cast<int>(entries_.size()); }
  const Entry& entry(int index) const { return entries_[static_cast<std::size_t>(index)]; }
  bool isShown(int index) const { return shown_[static_cast<std::size_t>(index)]; }
  void setShown(int index, bool shown);  // emits toggled when it changes
  QRect entryRect(int index) const;      // in widget coordinates, for the current width
  QRect textRect(int index) const;       // where the text is drawn
  int textWidth(int index) const;        // the text's full width in the current font
  QString shownText(int index) const;    // the text as drawn at the current width (full or compact)

  bool hasHeightForWidth() const override { return true; }
  int heightForWidth(int width) const override;
  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

Q_SIGNALS:
  void toggled(int index, bool shown);

protected:
  void paintEvent(QPaintEvent*) override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void changeEvent(QEvent* e) override;
  void resizeEvent(QResizeEvent* e) override;

private:
  int sampleWidth() const;
  QSize entrySize(int index, bool compact) const;
  int rowsFor(int width, bool compact) const;
  bool compactFor(int width) const;  // the full texts would take more than two rows, and there are short ones
  QString textOf(int index, bool compact) const;
  std::vector<QRect> layoutFor(int width) const;
  std::vector<Entry> entries_;
  std::vector<bool> shown_;
};

}  // namespace modlab::ui
