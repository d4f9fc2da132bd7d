use super::*;
use keel_core::schema::Action;
use std::path::Path;

fn desired(text: &str) -> Result<Desired, PslError> {
    let mut ast = Ast {
        files: vec![Path::new("schema.prisma").to_path_buf()],
        blocks: Vec::new(),
    };
    crate::parse::parse_file(Path::new("schema.prisma"), 0, text, &mut ast.blocks)?;
    build(&ast, None)
}

const BLOG: &str = r#"
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id      Int      @id @default(autoincrement())
  email   String   @unique
  name    String?  @db.VarChar(100)
  role    Role     @default(USER)
  posts   Post[]
  @@map("users")
}

model Post {
  id       String   @id @default(cuid())
  title    String   @default("untitled")
  authorId Int?
  author   User?    @relation(fields: [authorId], references: [id])
  tags     Tag[]
  created  DateTime @default(now())
  @@index([authorId, created(sort: Desc)])
}

model Tag {
  id    Int    @id
  posts Post[]
}

enum Role {
  USER
  ADMIN @map("admin")
}
"#;

#[test]
fn a_blog_schema_becomes_tables_keys_and_a_join_table() -> Result<(), PslError> {
    let d = desired(BLOG)?;
    assert_eq!(d.dialect, Dialect::Postgres);
    let s = &d.schema;
    let names: Vec<&str> = s.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Post", "Tag", "_PostToTag", "users"]);
    let users = s
        .table_id(None, "users")
        .ok_or_else(|| PslError::at(Path::new("x"), 0, 0, "no users"))?;
    let pk = s.table(users).primary_key.clone();
    assert_eq!(pk.and_then(|p| p.name), Some("users_pkey".to_string()));
    let email = s.columns.iter().find(|c| c.name == "email");
    assert_eq!(email.map(|c| c.data_type.as_str()), Some("text"));
    let name = s.columns.iter().find(|c| c.name == "name");
    assert_eq!(
        name.map(|c| (c.data_type.as_str(), c.nullable)),
        Some(("varchar(100)", true))
    );
    let role = s.columns.iter().find(|c| c.name == "role");
    assert_eq!(
        role.and_then(|c| c.default.clone()),
        Some("'USER'".to_string())
    );
    let idx: Vec<&str> = s.indexes.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        idx,
        [
            "users_email_key",
            "Post_authorId_created_idx",
            "_PostToTag_B_index"
        ]
    );
    let fk: Vec<(Option<&str>, Action, Action)> = s
        .foreign_keys
        .iter()
        .map(|f| (f.name.as_deref(), f.on_delete, f.on_update))
        .collect();
    assert_eq!(
        fk,
        [
            (Some("Post_authorId_fkey"), Action::SetNull, Action::Cascade),
            (Some("_PostToTag_A_fkey"), Action::Cascade, Action::Cascade),
            (Some("_PostToTag_B_fkey"), Action::Cascade, Action::Cascade),
        ]
    );
    assert_eq!(s.enums.len(), 1);
    assert_eq!(s.enums[0].values, ["USER", "admin"]);
    Ok(())
}

#[test]
fn errors_point_at_the_field() {
    let e = desired(
        "datasource db {\n  provider = \"postgresql\"\n}\nmodel A {\n  id Int @id\n  b  Nope\n}\n",
    )
    .err();
    assert_eq!(e.map(|e| (e.line, e.column)), Some((6, 3)));
    let e = desired("datasource db {\n  provider = \"sqlserver\"\n}\n").err();
    assert!(e.is_some_and(|e| e.message.contains("sqlserver")));
    let e = desired("model A {\n  id Int @id\n}\n").err();
    assert!(e.is_some_and(|e| e.message.contains("datasource")));
}
