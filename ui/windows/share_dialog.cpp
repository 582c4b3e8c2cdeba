#include "ui/windows/share_dialog.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QLabel>
#include <QPushButton>
#include <QScreen>
#include <QVBoxLayout>

#include "ui/data/live_share.h"
#include "ui/export/qr_code.h"

namespace modlab::ui {

ShareDialog::ShareDialog(LiveShare* share, QWidget* parent) : QDialog(parent), share_(share) {
  setWindowTitle(tr("Share live view"));
  auto* layout = new QVBoxLayout(this);
  auto* intro = new QLabel(tr("Anyone on this network can watch this run, read-only, in a web browser: "
                              "open the address or scan the code."));
  intro->setWordWrap(true);
  layout->addWidget(intro);
  addresses_ = new QComboBox;
  addresses_->setToolTip(tr("This machine's network addresses: pick the one the viewers' network reaches"));
  layout->addWidget(addresses_);
  address_ = new QLabel;
  address_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  address_->setWordWrap(true);
  QFont big = address_->font();
  big.setPointSizeF(big.pointSizeF() * 1.4);
  big.setBold(true);
  address_->setFont(big);
  layout->addWidget(address_);
  qr_ = new QLabel;
  qr_->setAlignment(Qt::AlignCenter);
  qr_->setAccessibleName(tr("QR code of the address"));
  layout->addWidget(qr_, 1);
  viewers_ = new QLabel;
  layout->addWidget(viewers_);
  auto* buttons = new QDialogButtonBox;
  QPushButton* copy = buttons->addButton(tr("&Copy address"), QDialogButtonBox::ActionRole);
  QPushButton* stop = buttons->addButton(tr("&Stop sharing"), QDialogButtonBox::DestructiveRole);
  buttons->addButton(QDialogButtonBox::Close);
  layout->addWidget(buttons);
  connect(copy, &QPushButton::clicked, this, [this] { QGuiApplication::clipboard()->setText(shownAddress()); });
  connect(stop, &QPushButton::clicked, this, [this] {
    share_->stop();
    accept();
  });
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(addresses_, &QComboBox::currentIndexChanged, this, &ShareDialog::showAddress);
  const auto count = [this](int n) { viewers_->setText(tr("Viewers connected: %1").arg(n)); };
  connect(share_, &LiveShare::viewersChanged, this, count);
  count(share_->viewers());
  refresh();
}

void ShareDialog::refresh() {
  const QSignalBlocker block(addresses_);
  addresses_->clear();
  for (const QUrl& url : share_->addresses()) addresses_->addItem(url.host(), url);
  addresses_->setVisible(addresses_->count() > 1);
  showAddress(0);
}

QString ShareDialog::shownAddress() const { return addresses_->currentData().toUrl().toString(); }

void ShareDialog::showAddress(int index) {
  const QUrl url = addresses_->itemData(index).toUrl();
  address_->setText(url.toString());
  // Modules of at least 8 px on a code of about 420 px: readable from the back of a room when projected.
  const QImage code = qrCode(url.toString(), 1);
  if (code.isNull()) {
    qr_->setText(tr("(the address is too long for a QR code)"));
    return;
  }
  const int scale = std::max(8, 420 / code.width());
  qr_->setPixmap(QPixmap::fromImage(qrCode(url.toString(), scale)));
}

}  // namespace modlab::ui
