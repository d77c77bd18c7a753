// Real Apache Curator 5.4 driven over a line protocol, so menagerie's tests can check that its recipes
// share locks, leaders, services and counters with Java services. One JSON object per line:
//   in:  {"id":7,"op":"mutex.acquire","args":{"handle":"m1","path":"/locks/a","timeoutMs":5000}}
//   out: {"id":7,"ok":true,"result":{...}}  or  {"id":7,"ok":false,"error":"...","errorClass":"..."}
//   out: {"event":"leader","handle":"l1","isLeader":true,...}  (unsolicited, e.g. leadership changes)
// Commands naming a "handle" run in order on that handle's own thread: Curator's mutexes are owned by
// the thread that acquired them, so release must come from the same thread. 64-bit values are strings.
// The process exits when stdin closes.

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.leader.Participant;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.framework.recipes.locks.Revoker;
import org.apache.curator.framework.recipes.nodes.GroupMember;
import org.apache.curator.framework.recipes.nodes.PersistentTtlNode;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceInstanceBuilder;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;

public final class CuratorHarness {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, CuratorFramework> clients = new ConcurrentHashMap<>();
  private static final Map<String, Object> handles = new ConcurrentHashMap<>();
  private static final Map<String, List<Lease>> leases = new ConcurrentHashMap<>();
  private static final Map<String, ServiceDiscovery<Object>> discoveries = new ConcurrentHashMap<>();
  private static final Map<String, ServiceInstance<Object>> instances = new ConcurrentHashMap<>();
  private static final Map<String, ExecutorService> handleThreads = new ConcurrentHashMap<>();
  /** Per LeaderSelector handle: a permit ends the current term (takeLeadership returns). */
  private static final Map<String, Semaphore> termEnds = new ConcurrentHashMap<>();
  private static final ExecutorService pool = Executors.newCachedThreadPool(CuratorHarness::daemon);

  /** InterProcessMutex keeps the lock path protected; expose it for the test. */
  static final class Mutex extends InterProcessMutex {
    Mutex(CuratorFramework client, String path) {
      super(client, path);
    }

    String ourPath() {
      return getLockPath();
    }
  }

  static final class WriteLock extends InterProcessReadWriteLock.WriteLock {
    WriteLock(CuratorFramework client, String path, byte[] data) {
      super(client, path, data);
    }

    String ourPath() {
      return getLockPath();
    }
  }

  static final class ReadLock extends InterProcessReadWriteLock.ReadLock {
    ReadLock(CuratorFramework client, String path, byte[] data, WriteLock writeLock) {
      super(client, path, data, writeLock);
    }

    String ourPath() {
      return getLockPath();
    }
  }

  static final class ReadWrite {
    final WriteLock write;
    final ReadLock read;

    ReadWrite(CuratorFramework client, String path, byte[] data) {
      write = new WriteLock(client, path, data);
      read = new ReadLock(client, path, data, write);
    }
  }

  static final QueueSerializer<String> UTF8 = new QueueSerializer<String>() {
    public byte[] serialize(String item) {
      return item.getBytes(StandardCharsets.UTF_8);
    }

    public String deserialize(byte[] bytes) {
      return new String(bytes, StandardCharsets.UTF_8);
    }
  };

  private static Thread daemon(Runnable runnable) {
    Thread thread = new Thread(runnable);
    thread.setDaemon(true);
    return thread;
  }

  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    emit(JSON.createObjectNode().put("event", "ready"));
    for (String line; (line = in.readLine()) != null; ) {
      if (line.isBlank()) continue;
      JsonNode command = JSON.readTree(line);
      String handle = command.path("args").path("handle").asText("");
      ExecutorService executor = handle.isEmpty()
          ? pool
          : handleThread(handle);
      executor.submit(() -> answer(command));
    }
    for (CuratorFramework client : clients.values()) client.close();
    System.exit(0);
  }

  private static ExecutorService handleThread(String handle) {
    return handleThreads.computeIfAbsent(handle,
        h -> Executors.newSingleThreadExecutor(CuratorHarness::daemon));
  }

  private static void answer(JsonNode command) {
    ObjectNode reply = JSON.createObjectNode();
    reply.set("id", command.get("id"));
    try {
      Object result = run(command.path("op").asText(), command.path("args"));
      reply.put("ok", true);
      reply.set("result", JSON.valueToTree(result));
    } catch (Throwable error) {
      reply.put("ok", false);
      reply.put("error", String.valueOf(error.getMessage()));
      reply.put("errorClass", error.getClass().getName());
    }
    emit(reply);
  }

  private static synchronized void emit(JsonNode message) {
    System.out.println(message.toString());
    System.out.flush();
  }

  private static CuratorFramework client(JsonNode c) {
    CuratorFramework client = clients.get(c.path("client").asText("default"));
    if (client == null) throw new IllegalStateException("no client " + c.path("client").asText("default"));
    return client;
  }

  private static <T> T handle(JsonNode c, Class<T> type) {
    Object value = handles.get(c.path("handle").asText());
    if (value == null) throw new IllegalStateException("no handle " + c.path("handle").asText());
    return type.cast(value);
  }

  private static boolean acquire(JsonNode c, TimedLock lock) throws Exception {
    if (c.hasNonNull("timeoutMs")) return lock.acquire(c.get("timeoutMs").asLong());
    lock.acquire(Long.MAX_VALUE);
    return true;
  }

  interface TimedLock {
    boolean acquire(long timeoutMs) throws Exception;
  }

  private static Map<String, Object> result(Object... pairs) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) map.put((String) pairs[i], pairs[i + 1]);
    return map;
  }

  private static Object run(String op, JsonNode c) throws Exception {
    switch (op) {
      case "connect": {
        String name = c.path("client").asText("default");
        CuratorFramework client = CuratorFrameworkFactory.newClient(c.get("connectString").asText(),
            c.path("sessionTimeoutMs").asInt(10000), 5000, new RetryNTimes(5, 200));
        client.start();
        if (!client.blockUntilConnected(10, TimeUnit.SECONDS)) {
          client.close();
          throw new IllegalStateException("not connected within 10 s");
        }
        clients.put(name, client);
        return result("sessionId", Long.toString(client.getZookeeperClient().getZooKeeper().getSessionId()));
      }
      case "disconnect": {
        CuratorFramework client = clients.remove(c.path("client").asText("default"));
        if (client != null) client.close();
        return result();
      }
      case "mutex.acquire": {
        String name = c.get("handle").asText();
        Mutex mutex = (Mutex) handles.computeIfAbsent(name,
            h -> new Mutex(client(c), c.get("path").asText()));
        if (c.path("revocable").asBoolean(false)) {
          mutex.makeRevocable(m -> emit(JSON.createObjectNode().put("event", "revoke").put("handle", name)));
        }
        boolean acquired = acquire(c, ms -> mutex.acquire(ms, TimeUnit.MILLISECONDS));
        return result("acquired", acquired, "lockPath", acquired ? mutex.ourPath() : null);
      }
      case "mutex.cycles": {
        // Uncontended acquire + release cycles, timed inside the JVM, for the benchmarks.
        InterProcessMutex mutex = new InterProcessMutex(client(c), c.get("path").asText());
        int cycles = c.get("cycles").asInt();
        long startNs = System.nanoTime();
        for (int i = 0; i < cycles; i++) {
          mutex.acquire();
          mutex.release();
        }
        return result("cycles", cycles, "elapsedMs", (System.nanoTime() - startNs) / 1e6);
      }
      case "mutex.handoff": return handoff(c);
      case "mutex.release":
        handle(c, Mutex.class).release();
        return result();
      case "rw.acquire": {
        byte[] data = c.hasNonNull("data") ? c.get("data").asText().getBytes(StandardCharsets.UTF_8) : null;
        ReadWrite lock = (ReadWrite) handles.computeIfAbsent(c.get("handle").asText(),
            h -> new ReadWrite(client(c), c.get("path").asText(), data));
        boolean write = c.get("mode").asText().equals("write");
        boolean acquired = write
            ? acquire(c, ms -> lock.write.acquire(ms, TimeUnit.MILLISECONDS))
            : acquire(c, ms -> lock.read.acquire(ms, TimeUnit.MILLISECONDS));
        String path = acquired ? (write ? lock.write.ourPath() : lock.read.ourPath()) : null;
        return result("acquired", acquired, "lockPath", path);
      }
      case "rw.release": {
        ReadWrite lock = handle(c, ReadWrite.class);
        if (c.get("mode").asText().equals("write")) lock.write.release();
        else lock.read.release();
        return result();
      }
      case "semaphore.acquire": {
        InterProcessSemaphoreV2 semaphore = (InterProcessSemaphoreV2) handles.computeIfAbsent(
            c.get("handle").asText(),
            h -> new InterProcessSemaphoreV2(client(c), c.get("path").asText(), c.get("maxLeases").asInt()));
        Lease lease = c.hasNonNull("timeoutMs")
            ? semaphore.acquire(c.get("timeoutMs").asLong(), TimeUnit.MILLISECONDS)
            : semaphore.acquire();
        if (lease != null) {
          leases.computeIfAbsent(c.get("handle").asText(), h -> new ArrayList<>()).add(lease);
        }
        return result("acquired", lease != null, "leaseNode", lease == null ? null : lease.getNodeName());
      }
      case "semaphore.release": {
        List<Lease> held = leases.remove(c.get("handle").asText());
        if (held != null) handle(c, InterProcessSemaphoreV2.class).returnAll(held);
        return result("released", held == null ? 0 : held.size());
      }
      case "latch.start": return startLatch(c);
      case "latch.state": {
        LeaderLatch latch = handle(c, LeaderLatch.class);
        ArrayNode participants = JSON.createArrayNode();
        for (Participant p : latch.getParticipants()) {
          participants.addObject().put("id", p.getId()).put("isLeader", p.isLeader());
        }
        return result("hasLeadership", latch.hasLeadership(), "ourPath", latch.getOurPath(),
            "leaderId", latch.getLeader().getId(), "participants", participants);
      }
      case "latch.close": {
        LeaderLatch latch = handle(c, LeaderLatch.class);
        handles.remove(c.get("handle").asText());
        boolean notify = c.path("mode").asText("silent").equals("notify");
        latch.close(notify ? LeaderLatch.CloseMode.NOTIFY_LEADER : LeaderLatch.CloseMode.SILENT);
        return result();
      }
      case "selector.start": return startSelector(c);
      case "selector.release":
        // Not on the handle's thread: that one may be the one waiting in takeLeadership.
        termEnds.get(c.get("selector").asText()).release();
        return result();
      case "selector.participants": {
        ArrayNode participants = JSON.createArrayNode();
        for (Participant p : handle(c, LeaderSelector.class).getParticipants()) {
          participants.addObject().put("id", p.getId()).put("isLeader", p.isLeader());
        }
        return participants;
      }
      case "selector.close": {
        LeaderSelector selector = handle(c, LeaderSelector.class);
        handles.remove(c.get("handle").asText());
        selector.close();
        return result();
      }
      case "barrier.enter": {
        DistributedDoubleBarrier barrier = (DistributedDoubleBarrier) handles.computeIfAbsent(
            c.get("handle").asText(),
            h -> new DistributedDoubleBarrier(client(c), c.get("path").asText(), c.get("memberQty").asInt()));
        boolean entered = c.hasNonNull("timeoutMs")
            ? barrier.enter(c.get("timeoutMs").asLong(), TimeUnit.MILLISECONDS)
            : barrier.enter(-1, null);
        return result("entered", entered);
      }
      case "barrier.leave": {
        DistributedDoubleBarrier barrier = handle(c, DistributedDoubleBarrier.class);
        boolean left = c.hasNonNull("timeoutMs")
            ? barrier.leave(c.get("timeoutMs").asLong(), TimeUnit.MILLISECONDS)
            : barrier.leave(-1, null);
        return result("left", left);
      }
      case "group.join": {
        GroupMember member = new GroupMember(client(c), c.get("path").asText(), c.get("id").asText(),
            c.path("payload").asText("").getBytes(StandardCharsets.UTF_8));
        handles.put(c.get("handle").asText(), member);
        member.start();
        return result();
      }
      case "group.members": {
        Map<String, String> members = new LinkedHashMap<>();
        for (Map.Entry<String, byte[]> e : handle(c, GroupMember.class).getCurrentMembers().entrySet()) {
          members.put(e.getKey(), new String(e.getValue(), StandardCharsets.UTF_8));
        }
        return members;
      }
      case "group.leave": {
        GroupMember member = handle(c, GroupMember.class);
        handles.remove(c.get("handle").asText());
        member.close();
        return result();
      }
      case "ttl.start": {
        PersistentTtlNode node = new PersistentTtlNode(client(c), c.get("path").asText(),
            c.get("ttlMs").asLong(), c.path("data").asText("").getBytes(StandardCharsets.UTF_8));
        handles.put(c.get("handle").asText(), node);
        node.start();
        boolean created = node.waitForInitialCreate(10, TimeUnit.SECONDS);
        return result("created", created);
      }
      case "ttl.close": {
        PersistentTtlNode node = handle(c, PersistentTtlNode.class);
        handles.remove(c.get("handle").asText());
        node.close();
        return result();
      }
      case "discovery.register": return register(c);
      case "discovery.unregister": {
        String key = c.get("basePath").asText() + "|" + c.get("id").asText();
        ServiceInstance<Object> instance = instances.remove(key);
        if (instance != null) discovery(c).unregisterService(instance);
        return result("unregistered", instance != null);
      }
      case "discovery.names": return discovery(c).queryForNames();
      case "discovery.list": {
        List<Object> list = new ArrayList<>();
        for (ServiceInstance<Object> i : discovery(c).queryForInstances(c.get("name").asText())) {
          list.add(describe(i));
        }
        return list;
      }
      case "count.set": {
        try (SharedCount count = new SharedCount(client(c), c.get("path").asText(), 0)) {
          count.start();
          count.setCount(c.get("value").asInt());
          return result("count", count.getCount());
        }
      }
      case "count.get": {
        try (SharedCount count = new SharedCount(client(c), c.get("path").asText(), 0)) {
          count.start();
          return result("count", count.getCount(), "version", count.getVersionedValue().getVersion());
        }
      }
      case "atomic.add": {
        DistributedAtomicLong value =
            new DistributedAtomicLong(client(c), c.get("path").asText(), new RetryNTimes(10, 10));
        AtomicValue<Long> outcome = value.add(c.get("delta").asLong());
        return result("succeeded", outcome.succeeded(), "preValue", Long.toString(outcome.preValue()),
            "postValue", Long.toString(outcome.postValue()));
      }
      case "queue.put": return queuePut(c);
      case "queue.consumeStart": return queueConsumeStart(c);
      case "queue.consumed": return new ArrayList<>(handle(c, QueueConsumerHandle.class).consumed);
      case "queue.consumeStop": {
        handle(c, QueueConsumerHandle.class).queue.close();
        handles.remove(c.get("handle").asText());
        return result();
      }
      case "children": return client(c).getChildren().forPath(c.get("path").asText());
      case "get": {
        Stat stat = new Stat();
        byte[] data = client(c).getData().storingStatIn(stat).forPath(c.get("path").asText());
        return result("data", data == null ? null : Base64.getEncoder().encodeToString(data),
            "czxid", Long.toString(stat.getCzxid()), "version", stat.getVersion(),
            "ephemeralOwner", Long.toString(stat.getEphemeralOwner()), "numChildren", stat.getNumChildren());
      }
      case "create": {
        byte[] data = Base64.getDecoder().decode(c.path("data").asText(""));
        CreateMode mode = CreateMode.valueOf(c.path("mode").asText("PERSISTENT"));
        return result("path", client(c).create().creatingParentContainersIfNeeded().withMode(mode)
            .forPath(c.get("path").asText(), data));
      }
      case "revoke":
        Revoker.attemptRevoke(client(c), c.get("path").asText());
        return result();
      case "set":
        byte[] newData = Base64.getDecoder().decode(c.path("data").asText(""));
        client(c).setData().forPath(c.get("path").asText(), newData);
        return result();
      case "delete":
        client(c).delete().forPath(c.get("path").asText());
        return result();
      default:
        throw new IllegalArgumentException("unknown op " + op);
    }
  }

  /**
   * Contended hand-off for the benchmarks: `clients` sessions (own connections) take one
   * InterProcessMutex `acquisitions` times in all; a hand-off is the time from one holder starting its
   * release to the next holder returning from acquire.
   */
  private static Object handoff(JsonNode c) throws Exception {
    int clientCount = c.path("clients").asInt(4);
    AtomicInteger remaining = new AtomicInteger(c.path("acquisitions").asInt(200));
    AtomicLong releasedAtNs = new AtomicLong(0);
    AtomicInteger acquired = new AtomicInteger(0);
    ConcurrentLinkedQueue<Long> handoffsNs = new ConcurrentLinkedQueue<>();
    List<CuratorFramework> own = new ArrayList<>();
    List<Throwable> failures = new ArrayList<>();
    try {
      for (int i = 0; i < clientCount; i++) {
        CuratorFramework client = CuratorFrameworkFactory.newClient(c.get("connectString").asText(),
            10000, 5000, new RetryNTimes(5, 200));
        own.add(client);
        client.start();
        if (!client.blockUntilConnected(10, TimeUnit.SECONDS)) {
          throw new IllegalStateException("not connected");
        }
      }
      CountDownLatch done = new CountDownLatch(clientCount);
      long startNs = System.nanoTime();
      for (CuratorFramework client : own) {
        InterProcessMutex mutex = new InterProcessMutex(client, c.get("path").asText());
        pool.submit(() -> {
          try {
            while (remaining.getAndDecrement() > 0) {
              mutex.acquire();
              long acquiredNs = System.nanoTime();
              acquired.incrementAndGet();
              long releasedNs = releasedAtNs.get();
              if (releasedNs != 0) handoffsNs.add(acquiredNs - releasedNs);
              releasedAtNs.set(System.nanoTime());
              mutex.release();
            }
          } catch (Throwable error) {
            synchronized (failures) {
              failures.add(error);
            }
          } finally {
            done.countDown();
          }
        });
      }
      done.await();
      double elapsedMs = (System.nanoTime() - startNs) / 1e6;
      if (!failures.isEmpty()) throw new IllegalStateException("hand-off run failed", failures.get(0));
      List<Long> sorted = new ArrayList<>(handoffsNs);
      sorted.sort(null);
      double p50 = sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2) / 1e6;
      int p99Index = Math.min(sorted.size() - 1, sorted.size() * 99 / 100);
      double p99 = sorted.isEmpty() ? 0 : sorted.get(p99Index) / 1e6;
      return result("acquisitions", acquired.get(), "elapsedMs", elapsedMs, "handoffP50Ms", p50,
          "handoffP99Ms", p99);
    } finally {
      for (CuratorFramework client : own) client.close();
    }
  }

  private static Object startLatch(JsonNode c) throws Exception {
    String name = c.get("handle").asText();
    LeaderLatch latch = new LeaderLatch(client(c), c.get("path").asText(), c.get("id").asText());
    latch.addListener(new LeaderLatchListener() {
      public void isLeader() {
        emit(JSON.createObjectNode().put("event", "leader").put("handle", name).put("isLeader", true)
            .put("ourPath", latch.getOurPath()));
      }

      public void notLeader() {
        emit(JSON.createObjectNode().put("event", "leader").put("handle", name).put("isLeader", false)
            .put("ourPath", latch.getOurPath()));
      }
    });
    handles.put(name, latch);
    latch.start();
    return result();
  }

  private static Object startSelector(JsonNode c) throws Exception {
    String name = c.get("handle").asText();
    Semaphore termEnd = new Semaphore(0);
    termEnds.put(name, termEnd);
    LeaderSelector selector = new LeaderSelector(client(c), c.get("path").asText(),
        new LeaderSelectorListenerAdapter() {
          public void takeLeadership(CuratorFramework client) throws Exception {
            emit(JSON.createObjectNode().put("event", "selector").put("handle", name).put("isLeader", true));
            try {
              termEnd.acquire();
            } finally {
              emit(JSON.createObjectNode().put("event", "selector").put("handle", name)
                  .put("isLeader", false));
            }
          }
        });
    selector.setId(c.get("id").asText());
    selector.autoRequeue();
    handles.put(name, selector);
    selector.start();
    return result();
  }

  private static ServiceDiscovery<Object> discovery(JsonNode c) throws Exception {
    String key = c.path("client").asText("default") + "|" + c.get("basePath").asText();
    ServiceDiscovery<Object> discovery = discoveries.get(key);
    if (discovery == null) {
      // The default serializer: JsonInstanceSerializer in compatible mode, as most Curator users run it.
      discovery = ServiceDiscoveryBuilder.builder(Object.class).client(client(c))
          .basePath(c.get("basePath").asText()).build();
      discovery.start();
      discoveries.put(key, discovery);
    }
    return discovery;
  }

  private static Object register(JsonNode c) throws Exception {
    Object payload = c.hasNonNull("payload") ? JSON.treeToValue(c.get("payload"), LinkedHashMap.class) : null;
    ServiceInstanceBuilder<Object> builder = ServiceInstance.<Object>builder()
        .name(c.get("name").asText()).id(c.get("id").asText()).address(c.get("address").asText())
        .registrationTimeUTC(c.path("registrationTimeUTC").asLong(System.currentTimeMillis()))
        .payload(payload);
    if (c.hasNonNull("port")) builder.port(c.get("port").asInt());
    if (c.hasNonNull("sslPort")) builder.sslPort(c.get("sslPort").asInt());
    ServiceInstance<Object> instance = builder.build();
    discovery(c).registerService(instance);
    instances.put(c.get("basePath").asText() + "|" + instance.getId(), instance);
    return result();
  }

  private static Map<String, Object> describe(ServiceInstance<Object> i) {
    return result("name", i.getName(), "id", i.getId(), "address", i.getAddress(), "port", i.getPort(),
        "sslPort", i.getSslPort(), "payload", i.getPayload(),
        "registrationTimeUTC", i.getRegistrationTimeUTC(),
        "serviceType", i.getServiceType().name(), "enabled", i.isEnabled(),
        "payloadClass", i.getPayload() == null ? null : i.getPayload().getClass().getName());
  }

  private static Object queuePut(JsonNode c) throws Exception {
    String kind = c.get("kind").asText();
    String item = c.get("item").asText();
    QueueBuilder<String> builder = QueueBuilder.builder(client(c), null, UTF8, c.get("path").asText())
        .putInBackground(false);
    switch (kind) {
      case "plain":
        try (var queue = builder.buildQueue()) {
          queue.start();
          queue.put(item);
        }
        break;
      case "priority":
        try (var queue = builder.buildPriorityQueue(0)) {
          queue.start();
          queue.put(item, c.get("priority").asInt());
        }
        break;
      case "delay":
        try (var queue = builder.buildDelayQueue()) {
          queue.start();
          queue.put(item, c.get("delayUntilEpochMs").asLong());
        }
        break;
      case "id":
        try (var queue = builder.buildIdQueue()) {
          queue.start();
          queue.put(item, c.get("itemId").asText());
        }
        break;
      default:
        throw new IllegalArgumentException("unknown queue kind " + kind);
    }
    return result();
  }

  /** A lock-safe (lockPath) DistributedQueue consumer that records what it consumed. */
  static final class QueueConsumerHandle {
    final List<String> consumed = java.util.Collections.synchronizedList(new ArrayList<>());
    org.apache.curator.framework.recipes.queue.DistributedQueue<String> queue;
  }

  private static Object queueConsumeStart(JsonNode c) throws Exception {
    QueueConsumerHandle holder = new QueueConsumerHandle();
    org.apache.curator.framework.recipes.queue.QueueConsumer<String> consumer =
        new org.apache.curator.framework.recipes.queue.QueueConsumer<String>() {
          @Override
          public void consumeMessage(String message) {
            holder.consumed.add(message);
          }

          @Override
          public void stateChanged(CuratorFramework client,
              org.apache.curator.framework.state.ConnectionState newState) {}
        };
    QueueBuilder<String> builder = QueueBuilder.builder(client(c), consumer, UTF8, c.get("path").asText());
    if (c.hasNonNull("lockPath")) builder = builder.lockPath(c.get("lockPath").asText());
    holder.queue = builder.buildQueue();
    holder.queue.start();
    handles.put(c.get("handle").asText(), holder);
    return result();
  }
}
