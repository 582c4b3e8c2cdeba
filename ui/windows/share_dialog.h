// File > Share live view: the address browsers open (with its access token) in large type,
// a QR code big enough to scan from the back of a room, the number of viewers, and Stop
// sharing. Closing the dialog keeps sharing (the status bar shows it).
#pragma once

#include <QDialog>

class QComboBox;
class QLabel;

namespace modlab::ui {

class LiveShare;

class ShareDialog : public QDialog {
  Q_OBJECT
public:
  ShareDialog(LiveShare* share, QWidget* parent = nullptr);
  void refresh();  // the addresses and the QR code of the sharing now
  QString shownAddress() const;

private:
  void showAddress(int index);
  LiveShare* share_;
  QComboBox* addresses_;
  QLabel *address_, *qr_, *viewers_;
};

}  // namespace modlab::ui
