// Run by tests/pgjdbc.test.ts: pgjdbc (Debian's libpostgresql-jdbc-java) against the engine.
import java.sql.*;

public class Main {
  public static void main(String[] args) throws Exception {
    String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/t1?sslmode=disable&prepareThreshold=2";
    try (Connection c = DriverManager.getConnection(url, "alice", System.getenv("ALICE_PASSWORD"))) {
      try (Statement s = c.createStatement()) {
        s.execute("create table j_items (id int primary key, qty int)");
      }
      c.setAutoCommit(false);
      try (PreparedStatement p = c.prepareStatement("insert into j_items values (?, ?)")) {
        for (int i = 1; i <= 10; i++) {
          p.setInt(1, i);
          p.setInt(2, i * 10);
          p.executeUpdate();
        }
      }
      try (PreparedStatement p = c.prepareStatement("insert into j_items values (?, ?)")) {
        for (int i = 11; i <= 20; i++) {
          p.setInt(1, i);
          p.setInt(2, 1);
          p.addBatch();
        }
        p.executeBatch();
      }
      c.commit();
      c.setAutoCommit(true);
      try (PreparedStatement p = c.prepareStatement("select sum(qty), current_setting('app.user') from j_items where id > ?")) {
        for (int i = 0; i < 4; i++) {
          p.setInt(1, 0);
          try (ResultSet r = p.executeQuery()) {
            r.next();
            System.out.println("sum " + r.getLong(1) + " " + r.getString(2));
          }
        }
      }
    }
    try (Connection c = DriverManager.getConnection(url, "bob", System.getenv("BOB_PASSWORD"))) {
      try (Statement s = c.createStatement()) {
        s.executeUpdate("insert into j_items values (99, 1)");
        System.out.println("bob insert succeeded");
      } catch (SQLException e) {
        System.out.println("bob insert " + e.getSQLState());
      }
      try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("select count(*), current_setting('is_superuser') from j_items")) {
        r.next();
        System.out.println("bob count " + r.getLong(1) + " " + r.getString(2));
      }
    }
  }
}
