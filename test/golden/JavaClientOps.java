// Apache's own Java client (org.apache.zookeeper.ZooKeeper 3.8) driving the operations the C client
// binding cannot send: create2, multi (failing and succeeding), multiRead, checkWatches,
// removeWatches, addWatch, getEphemerals, getAllChildrenNumber, whoAmI and setWatches2 on reconnect.
// Run by test/golden/capture.ts through a recording proxy, as `java -cp <zookeeper jars> JavaClientOps.java
// host:port`. It prints DROP when the proxy should cut the connection, and waits for a line on stdin.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

public class JavaClientOps {
    private static final LinkedBlockingQueue<WatchedEvent> states = new LinkedBlockingQueue<>();
    private static final LinkedBlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** Waits for a watch event; the capture must not race the notification it wants on the wire. */
    private static WatchedEvent nextEvent() throws InterruptedException {
        WatchedEvent event = events.poll(10, TimeUnit.SECONDS);
        if (event == null) throw new IllegalStateException("no watch event within 10 s");
        return event;
    }

    private static void awaitConnected() throws InterruptedException {
        for (;;) {
            WatchedEvent event = states.poll(20, TimeUnit.SECONDS);
            if (event == null) throw new IllegalStateException("not connected within 20 s");
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) return;
        }
    }

    public static void main(String[] args) throws Exception {
        Watcher defaultWatcher = event -> {
            if (event.getType() == Watcher.Event.EventType.None) states.add(event);
            else events.add(event);
        };
        // canBeReadOnly = true: the connect request carries readOnly = true.
        ZooKeeper zk = new ZooKeeper(args[0], 4000, defaultWatcher, true);
        awaitConnected();

        Stat stat = new Stat();
        zk.create("/java", bytes("java"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, stat);
        zk.create("/java/e", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL, stat);
        zk.create("/java/ttl", bytes("t"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, stat, 60000);
        zk.create("/java/c", bytes("c"), Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER, stat);
        try {
            zk.create("/java", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, stat);
        } catch (KeeperException.NodeExistsException expected) {
            // A create2 answered with an error: header only.
        }

        // multi: every write kind, then one that fails on a bad version.
        zk.multi(List.of(
                Op.create("/java/m", bytes("m"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                Op.create("/java/mc", null, Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER),
                Op.create("/java/mt", null, Ids.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, 5000),
                Op.check("/java", 0),
                Op.setData("/java/m", bytes("m2"), 0),
                Op.delete("/java/m", 1)));
        try {
            zk.multi(List.of(
                    Op.create("/java/never", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                    Op.setData("/java", bytes("x"), 99),
                    Op.delete("/java/e", -1)));
        } catch (KeeperException.BadVersionException expected) {
            // The whole multi is rolled back; every result is an error result.
        }
        // multiRead: only reads, each answered on its own (a missing node fails only its own op).
        zk.multi(List.of(Op.getChildren("/java"), Op.getData("/java"), Op.getData("/java/missing")));

        // checkWatches (one watcher) and removeWatches (all watchers).
        Watcher one = event -> events.add(event);
        zk.getData("/java", one, stat);
        zk.removeWatches("/java", one, Watcher.WatcherType.Data, false);
        zk.getChildren("/java", one);
        zk.removeAllWatches("/java", Watcher.WatcherType.Any, false);

        // addWatch, persistent and recursive; a change fires both.
        zk.addWatch("/java", AddWatchMode.PERSISTENT);
        zk.addWatch("/java", AddWatchMode.PERSISTENT_RECURSIVE);
        zk.setData("/java", bytes("changed"), -1);
        nextEvent();
        nextEvent();

        zk.getEphemerals("/java");
        zk.getAllChildrenNumber("/java");
        zk.whoAmI();
        zk.getData("/java/c", true, stat);
        zk.exists("/java/absent", true);

        // Reconnect with persistent and one-shot watches registered: the client sends setWatches2.
        System.out.println("DROP");
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in)).readLine();
        awaitConnected();
        zk.create("/java/absent", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, stat);
        nextEvent();

        zk.close();
        System.out.println("DONE");
    }
}
