#include "tests/testing/in_process_master.h"

#include <gtest/gtest.h>

#include "journal/server_identity.h"
#include "replica/master_commands.h"
#include "replica/server_spec.h"
#include "transport/engine_commands.h"

namespace tandem::testing {

std::unique_ptr<InProcessMaster> InProcessMaster::Start(const std::string& root, bool fsync) {
  std::unique_ptr<InProcessMaster> m(new InProcessMaster);
  RootLayout layout(root);
  EXPECT_TRUE(layout.EnsureDirs().ok());
  EXPECT_TRUE(WriteServerIdentity(layout, {.id = "master1"}).ok());
  auto engine = Engine::Open({root, fsync});
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  if (!engine.ok()) return nullptr;
  m->engine_ = std::move(engine).value();
  m->hub_ = std::make_unique<ReplicationHub>(m->engine_.get());
  m->dispatcher_ = std::make_unique<Dispatcher>(&m->engine_->tables());
  ServerOptions options;
  options.address = *Address::Parse("127.0.0.1:0");
  m->server_ = std::make_unique<Server>(options, m->dispatcher_.get());
  InProcessMaster* self = m.get();
  RegisterEngineCommands(m->engine_.get(), m->dispatcher_.get(),
                         {[self] { return self->address().ToString(); }, [] {}});
  RegisterMasterReplicationCommands(m->engine_.get(), m->hub_.get(), m->dispatcher_.get());
  Status st = m->server_->Start();
  EXPECT_TRUE(st.ok()) << st.ToString();
  return st.ok() ? std::move(m) : nullptr;
}

InProcessMaster::~InProcessMaster() {
  server_.reset();  // no handler runs once the server has stopped
  hub_.reset();
  engine_.reset();
}

void InProcessMaster::AddSpec(const std::string& id, const std::string& type, bool mandatory) {
  auto spec = ServerSpec::Parse("ServerID: " + id + "\nServices: " + type +
                                "\nOptions: " + (mandatory ? "mandatory" : "nomandatory") +
                                "\nReplicatingFrom: master1\n");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  ASSERT_TRUE(engine_->Commit({{ServerSpecOp(*spec)}}).ok());
  hub_->Recompute();
}

Position InProcessMaster::Put(const std::string& key, const std::string& value) {
  auto pos = engine_->Commit({{Op::Put("kv", key, value)}});
  EXPECT_TRUE(pos.ok()) << pos.status().ToString();
  return pos.ok() ? *pos : Position{};
}

DownstreamStatus InProcessMaster::Downstream(const std::string& id) const {
  for (const DownstreamStatus& d : hub_->Downstream()) {
    if (d.id == id) return d;
  }
  return {};
}

}  // namespace tandem::testing
