// Grants the brokers' ACLs that eventkit.acls derives from the contracts: each service its own
// principal, allowed to write only the topics it owns and read only those it subscribes to.
//
//   java -cp '<kafka jars>/*' GrantAcls.java <bootstrap> < grants.txt
//
// Each line of standard input: <principal> <TOPIC|GROUP> <resource name> <operation>. The admin's
// SASL/SCRAM credentials come from KAFKA_ADMIN_USERNAME and KAFKA_ADMIN_PASSWORD (never argv, which
// other users of the machine can read).
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class GrantAcls {
    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.put("bootstrap.servers", args[0]);
        props.put("security.protocol", "SASL_PLAINTEXT");
        props.put("sasl.mechanism", "SCRAM-SHA-512");
        props.put(
                "sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                        + System.getenv("KAFKA_ADMIN_USERNAME") + "\" password=\""
                        + System.getenv("KAFKA_ADMIN_PASSWORD") + "\";");
        List<AclBinding> bindings = new ArrayList<>();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            String[] f = line.trim().split("\\s+");
            if (f.length != 4) continue;
            bindings.add(new AclBinding(
                    new ResourcePattern(ResourceType.valueOf(f[1]), f[2], PatternType.LITERAL),
                    new AccessControlEntry("User:" + f[0], "*", AclOperation.valueOf(f[3]), AclPermissionType.ALLOW)));
        }
        try (Admin admin = Admin.create(props)) {
            admin.createAcls(bindings).all().get();
        }
        System.out.println("granted " + bindings.size() + " ACLs");
    }
}
