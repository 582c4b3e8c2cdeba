// File > Share live view: the app's run served to browsers straight from what the window
// holds (the session's snapshots as RunData has them: no lag behind the disk), on every
// network interface with an access token. One run, id "live".
#pragma once

#include <memory>

#include "ui/data/live_share.h"
#include "ui/data/training_controller.h"
#include "web/server/view_source.h"
#include "web/server/web_server.h"

namespace modlab::web {

class SessionShare : public ui::LiveShare, public ViewSource {
  Q_OBJECT
public:
  // `port` 0: the first free one from 8750.
  SessionShare(ui::TrainingController* controller, quint16 port = 0, QObject* parent = nullptr);
  ~SessionShare() override;

  bool start(QString* error) override;
  void stop() override;
  bool isSharing() const override;
  QList<QUrl> addresses() const override;
  int viewers() const override;
  WebServer* server() const { return server_.get(); }

  std::string kind() const override { return "live"; }
  std::string title() const override;
  std::vector<std::string> runIds() override { return {"live"}; }
  std::vector<std::string> sweepIds() override { return {}; }
  RunView* run(const std::string& id, bool curves = true) override;
  std::optional<nlohmann::json> sweep(const std::string&) override { return std::nullopt; }
  std::optional<std::string> sweepCsv(const std::string&) override { return std::nullopt; }
  std::optional<nlohmann::json> compare(const std::vector<std::string>&, const std::string&, const std::string&,
                                        double) override {
    return std::nullopt;
  }

private:
  void sync();  // brings the view up to what RunData holds

  ui::TrainingController* controller_;
  quint16 port_;
  std::unique_ptr<WebServer> server_;
  RunView view_;
  bool resetPending_ = true;
  std::map<std::string, int> trainTaken_;  // points of each model already in the view
  std::size_t evaluationsTaken_ = 0, changesTaken_ = 0;
};

}  // namespace modlab::web
